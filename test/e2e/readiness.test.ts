import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { MODULES, SUBGRAPH_NAMES } from '@civic/subgraphs';
import { startSystem, type System } from '../support/system';

/**
 * GET /ready (issue 10: "the gateway's readiness includes its subgraphs"): a subgraph is ready when its
 * database is reachable and migrated, the gateway when its supergraph is loaded and each of our subgraphs is
 * ready. GET /health only says a process is alive. Against the real system on port 0.
 */

let system: System;
const opened: Service[] = [];
const servers: Server[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  system = await startSystem('sqlite');
});

afterAll(async () => {
  for (const s of opened) await s.stop();
  for (const s of servers) await new Promise((r) => s.close(r));
  await system?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const origin = (graphqlUrl: string) => new URL(graphqlUrl).origin;

async function ready(graphqlUrl: string) {
  const res = await fetch(`${origin(graphqlUrl)}/ready`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as unknown };
}

/** A gateway over the system's subgraphs, with `override` replacing some of their URLs. */
async function gatewayOver(override: Record<string, string>) {
  const service = await createGatewayService({
    subgraphUrls: { ...system.subgraphUrls, ...override },
    rateLimit: { costPerMinute: 0 },
  });
  opened.push(service);
  return (await service.listen(0, '127.0.0.1')).url;
}

describe('a subgraph', () => {
  it.each(SUBGRAPH_NAMES)('%s is ready: its database is reachable and migrated', async (name) => {
    expect(await ready(system.subgraphUrls[name])).toEqual({
      status: 200,
      cache: 'no-store',
      body: { status: 'ready', service: name, checks: { database: { ok: true } } },
    });
  });

  it('on a database nobody migrated is alive but not ready, and says what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-ready-'));
    dirs.push(dir);
    const ds = await MODULES.organizations.createDataSource({ type: 'sqlite', path: join(dir, 'o.sqlite') });
    await ds.initialize();
    const service = await MODULES.organizations.createService(ds, { closeDataSource: true });
    opened.push(service);
    const { url } = await service.listen(0, '127.0.0.1');
    expect((await fetch(`${origin(url)}/health`)).status).toBe(200);
    expect(await ready(url)).toEqual({
      status: 503,
      cache: 'no-store',
      body: {
        status: 'not ready',
        service: 'organizations',
        checks: { database: { ok: false, reason: 'database not migrated: no migrations table' } },
      },
    });
  });
});

describe('the gateway', () => {
  it('is ready when its supergraph is loaded and every subgraph is', async () => {
    expect(await ready(system.gatewayUrl)).toEqual({
      status: 200,
      cache: 'no-store',
      body: {
        status: 'ready',
        service: 'gateway',
        checks: {
          supergraph: { ok: true },
          'subgraph organizations': { ok: true },
          'subgraph commitments': { ok: true },
          'subgraph budgets': { ok: true },
        },
      },
    });
  });

  it('with a subgraph down: not ready, naming the subgraph and never its address', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const url = await gatewayOver({ budgets: `http://127.0.0.1:${port}/graphql` });
    const answer = await ready(url);
    expect(answer).toEqual({
      status: 503,
      cache: 'no-store',
      body: {
        status: 'not ready',
        service: 'gateway',
        checks: {
          supergraph: { ok: true },
          'subgraph organizations': { ok: true },
          'subgraph commitments': { ok: true },
          'subgraph budgets': { ok: false, reason: 'unreachable' },
        },
      },
    });
    expect(JSON.stringify(answer.body)).not.toContain(String(port));
    // Alive all the same: /health is about the process, not its dependencies.
    expect((await fetch(`${origin(url)}/health`)).status).toBe(200);
  });

  it('with a subgraph that is up but not ready: passes on its reason', async () => {
    const notReady = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'not ready',
          checks: { database: { ok: false, reason: 'database unreachable' } },
        }),
      );
    });
    servers.push(notReady);
    await new Promise<void>((r) => notReady.listen(0, '127.0.0.1', () => r()));
    const port = (notReady.address() as AddressInfo).port;
    const url = await gatewayOver({ commitments: `http://127.0.0.1:${port}/graphql` });
    const answer = await ready(url);
    expect(answer.status).toBe(503);
    expect((answer.body as { checks: Record<string, unknown> }).checks['subgraph commitments']).toEqual({
      ok: false,
      reason: 'database: database unreachable',
    });
  });

  it('a flood of probes costs one check a second, not one each', async () => {
    let probes = 0;
    const counted = createServer((_req, res) => {
      probes++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ready","checks":{}}');
    });
    servers.push(counted);
    await new Promise<void>((r) => counted.listen(0, '127.0.0.1', () => r()));
    const port = (counted.address() as AddressInfo).port;
    const url = await gatewayOver({ organizations: `http://127.0.0.1:${port}/graphql` });
    const answers = await Promise.all(Array.from({ length: 50 }, () => ready(url)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(probes).toBe(1);
  });
});
