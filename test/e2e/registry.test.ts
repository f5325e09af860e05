import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { RegistryConfig } from '@civic/common/config';
import { dropDatabase } from '@civic/common/db';
import type { Service } from '@civic/common/service';
import { publish, removeSubgraph, type RegistryContext } from '@civic/gateway/registry/registry';
import { openRegistryStore, type RegistryStore } from '@civic/gateway/registry/store';
import { createGatewayService } from '@civic/gateway/server';
import { startPartnerSubgraph, type PartnerSubgraph } from '../../examples/partner-subgraph/src/server';
import { latestIndicatorOf } from '../../examples/partner-subgraph/src/data';
import { runTsxScript, type CliResult } from '../support/import-cli';
import { startSystem, type GraphQLResponse, type System } from '../support/system';

/**
 * The schema registry for real: its two stores (a directory, and MariaDB when this run has it) under
 * concurrent publishers; `npm run subgraph:*` in child processes, with their exit statuses; gateways built
 * as `npm start` builds them (and `npm run start:gateway` in a child process) following the registry while
 * serving; and the example partner subgraph (examples/partner-subgraph) on its own HTTP server on port 0.
 * The rules of the check itself are test/unit/subgraph-check.test.ts.
 */

const ROOT = join(__dirname, '..', '..');
const NAME = 'city-indicators';
/** What every gateway here polls at: a publish is served within this plus a composition (~0.3 s). */
const POLL_MS = 300;
/** The issue's promise: a publish is served within 10 s. */
const SERVED_WITHIN_MS = 10_000;

type RegistryKind = 'directory' | 'mysql';
const REGISTRIES: RegistryKind[] = process.env.TEST_MYSQL === '1' ? ['directory', 'mysql'] : ['directory'];

/** A fresh, uniquely named registry: a temp directory, or a MySQL database dropped afterwards. */
function freshRegistry(kind: RegistryKind): {
  config: RegistryConfig;
  /** The environment that points `npm run subgraph:*` and `start:gateway` at it, and at nothing else. */
  env: NodeJS.ProcessEnv;
  open(): Promise<RegistryStore>;
  drop(): Promise<void>;
} {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.endsWith('DATABASE_URL') && !k.startsWith('REGISTRY_') && k !== 'DATA_DIR',
    ),
  );
  env.LOG_LEVEL = 'info';
  if (kind === 'mysql') {
    const server = (process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
    const database = `civic_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}_registry`;
    const config: RegistryConfig = { type: 'mysql', url: server, database };
    return {
      config,
      env: { ...env, REGISTRY_DATABASE_URL: `${server}/${database}` },
      open: () => openRegistryStore(config),
      drop: () => dropDatabase({ type: 'mysql', url: server, database }),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'civic-registry-'));
  const config: RegistryConfig = { type: 'directory', dir };
  return {
    config,
    env: { ...env, REGISTRY_DIR: dir },
    open: () => openRegistryStore(config),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `npm run subgraph:<command> -- args` as people do (scripts/subgraph.ts through tsx). */
function subgraphCli(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliResult> {
  return runTsxScript('subgraph.ts', args, env);
}

async function post<T = any>(url: string, query: string): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** Asks until `ok` holds (or the time is up); returns the last answer and how long it took. */
async function waitFor<T>(ask: () => Promise<T>, ok: (t: T) => boolean, withinMs = SERVED_WITHIN_MS) {
  const started = Date.now();
  for (;;) {
    const answer = await ask();
    if (ok(answer) || Date.now() - started > withinMs) return { answer, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A partner field joined with ours: the organization's name from our subgraph, its indicator from the partner's. */
const JOINED = /* GraphQL */ `
  {
    organization(id: "tn-municipality-34012") {
      names {
        fr
      }
      latestIndicator(kind: WATER_ACCESS) {
        year
        value
        unit
        synthetic
      }
    }
  }
`;
/** Municipality 34012's French name as the Tunisian municipalities file spells it (our organizations data). */
const FR_NAME = 'Bu Aradah';
const expectedJoined = () => {
  const i = latestIndicatorOf('tn-municipality-34012', 'WATER_ACCESS')!;
  return {
    data: {
      organization: {
        names: { fr: FR_NAME },
        latestIndicator: { year: i.year, value: i.value, unit: i.unit, synthetic: true },
      },
    },
  };
};
const served = (r: GraphQLResponse) => !r.errors && r.data !== undefined;
/** The gateway's validation error for a field its supergraph does not have. */
const unknownField = (r: GraphQLResponse) =>
  r.errors?.some((e) => /Cannot query field "latestIndicator" on type "Organization"/.test(e.message)) ??
  false;

/** The partner's SDL with its first description changed: a new version, no change for clients. */
const newVersionOf = (sdl: string, n: number) =>
  sdl.replace('"""\ntype Query', `Version ${n}.\n"""\ntype Query`);

let system: System;
let partner: PartnerSubgraph;
const opened: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  [system, partner] = await Promise.all([startSystem('sqlite'), startPartnerSubgraph({})]);
});
afterAll(async () => {
  for (const s of opened.reverse()) await s.stop();
  await partner?.stop();
  await system?.stop();
});

/** A gateway as `npm start` builds it, on its own store of the registry, with its log lines kept. */
async function startGateway(store: RegistryStore) {
  const log: { at: number; line: Record<string, any> }[] = [];
  const gateway: Service = await createGatewayService({
    subgraphUrls: system.subgraphUrls,
    // Whole answers are compared: without the cost report (REPORT_COST, on by default; test/support/system.ts).
    reportCost: false,
    registry: {
      store,
      pollMs: POLL_MS,
      log: pino(
        { level: 'info' },
        { write: (s: string) => void log.push({ at: Date.now(), line: JSON.parse(s) }) },
      ),
    },
  });
  opened.push(gateway);
  const { url } = await gateway.listen(0, '127.0.0.1');
  return { url, log };
}

describe.each(REGISTRIES)('a registry in a %s', (kind) => {
  const registry = freshRegistry(kind);
  const ctx = async (): Promise<RegistryContext> => ({
    store: await registry.open(),
    coreUrls: system.subgraphUrls,
  });
  afterAll(() => registry.drop());

  test('concurrent publishers are serialized: every version is kept, numbered once, in order', async () => {
    const contexts = await Promise.all([ctx(), ctx(), ctx()]);
    try {
      const name = 'concurrency-probe';
      const sdl = (n: number) =>
        `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
"Probe, version ${n}." type Query { concurrencyProbe: Int }\n`;
      const reports = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) =>
          publish(contexts[n % 3], { name, url: 'http://127.0.0.1:1/graphql', sdl: sdl(n) }),
        ),
      );
      expect(reports.map((r) => r.outcome)).toEqual(Array(6).fill('published'));
      expect(reports.map((r) => r.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      const [entry] = (await contexts[0].store.list()).filter((e) => e.name === name);
      expect(entry.versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
      // Each version holds what its publisher sent: no write was lost or mixed with another.
      const byVersion = new Map(reports.map((r, i) => [r.version, sdl(i + 1)]));
      for (const v of entry.versions) expect(v.sdl).toBe(byVersion.get(v.version));
      expect(entry.sdl).toBe(entry.versions.at(-1)!.sdl);
      expect((await removeSubgraph(contexts[1], name)).outcome).toBe('removed');
      expect(await contexts[2].store.list()).toEqual([]);
    } finally {
      for (const c of contexts) await c.store.close();
    }
  });

  describe('two running gateways and the commands', () => {
    let gateways: { url: string; log: { at: number; line: Record<string, any> }[] }[];
    let schemaFile: string;
    const cli = (args: string[]) => subgraphCli(registry.env, args);
    const publishArgs = () => ['publish', '--name', NAME, '--url', partner.url];

    beforeAll(async () => {
      gateways = [await startGateway(await registry.open()), await startGateway(await registry.open())];
      const dir = mkdtempSync(join(tmpdir(), 'civic-sdl-'));
      schemaFile = join(dir, 'city-indicators.graphql');
      writeFileSync(schemaFile, partner.sdl);
      opened.push({ stop: async () => rmSync(dir, { recursive: true, force: true }) });
    });

    test('a publish (read from the running subgraph) is served by both within 10 s, joined with our fields', async () => {
      for (const g of gateways) expect(unknownField(await post(g.url, JOINED))).toBe(true);
      const started = Date.now();
      const out = await cli([...publishArgs(), '--owner', 'Example city network', '--timeout-ms', '6000']);
      expect({ code: out.code, stdout: out.stdout, stderr: out.stderr }).toEqual({
        code: 0,
        stdout: `${NAME}: published version 1; running gateways serve it within seconds.\n`,
        stderr: '',
      });
      const published = Date.now();
      for (const g of gateways) {
        const { answer } = await waitFor(() => post(g.url, JOINED), served);
        expect(answer).toEqual(expectedJoined());
      }
      const servedMs = Date.now() - published;
      // The command itself (a child process through tsx) takes a second or two; the gateways' part is this.
      console.log(
        `${kind}: publish command ${published - started} ms, then served by both gateways in ${servedMs} ms`,
      );
      expect(servedMs).toBeLessThan(SERVED_WITHIN_MS);
      for (const g of gateways) {
        expect(g.log.map((l) => l.line.msg)).toContain('serving a new supergraph from the schema registry');
      }

      const list = await cli(['list', '--json']);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).map((r: any) => [r.name, r.version, r.owner, r.timeoutMs])).toEqual([
        ['organizations', 'core', 'civic-graph', null],
        ['commitments', 'core', 'civic-graph', null],
        ['budgets', 'core', 'civic-graph', null],
        [NAME, 1, 'Example city network', 6000],
      ]);
    });

    test('the same SDL and URL again changes nothing, from a file or from the subgraph', async () => {
      const store = await registry.open();
      try {
        const before = await store.revision();
        const fromFile = await cli([...publishArgs(), '--schema', schemaFile]);
        expect({ code: fromFile.code, stdout: fromFile.stdout }).toEqual({
          code: 0,
          stdout: `${NAME}: unchanged: version 1 has the same SDL and URL, nothing was published.\n`,
        });
        const check = await cli(['check', '--name', NAME, '--url', partner.url, '--json']);
        expect(check.code).toBe(0);
        expect(JSON.parse(check.stdout)).toEqual({
          name: NAME,
          ok: true,
          outcome: 'unchanged',
          version: 1,
          problems: [],
          warnings: [],
        });
        expect(await store.revision()).toBe(before);
        expect((await store.list())[0].versions).toHaveLength(1);
      } finally {
        await store.close();
      }
    });

    test('a refused version (exit 1, each problem named) leaves the served supergraph as it was', async () => {
      const hostile = join(schemaFile, '..', 'hostile.graphql');
      writeFileSync(
        hostile,
        `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override", "@authenticated"])
type Query { organization(id: ID!): Organization  cityNotes: String @authenticated }
type Organization @key(fields: "id") { id: ID! name: String @override(from: "organizations") }
type Money { amount: String! }\n`,
      );
      const out = await cli(['publish', '--name', NAME, '--url', partner.url, '--schema', hostile]);
      expect(out.code).toBe(1);
      expect(out.stdout.split('\n').filter((l) => l.startsWith('  - '))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^ {2}- \[directive\] @authenticated on Query\.cityNotes: the gateway does not enforce/,
          ),
          '  - [ownership] Query.organization is already a root field of the organizations subgraph: name yours differently.',
          expect.stringMatching(
            /^ {2}- \[ownership\] Organization\.name uses @override\(from: "organizations"\)/,
          ),
          '  - [ownership] Money is a type of the budgets subgraph: a partner may not define or change it. Give your type a name of its own.',
          // Version 1's fields, missing from this one.
          '  - [breaking] Breaking for clients: Query.indicatorKinds was removed.',
        ]),
      );
      expect(out.stdout).toMatch(/^city-indicators: refused \(\d+ problems\):/);
      // A composition error alone, as @apollo/composition words it.
      writeFileSync(hostile, `${partner.sdl}\ntype CityRanking { city: Organization! rank: Rank! }\n`);
      const broken = await cli(['check', '--name', NAME, '--url', partner.url, '--schema', hostile]);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/\[composition [A-Z_]+\] \[city-indicators\] .*Rank/);
      for (const g of gateways) expect(await post(g.url, JOINED)).toEqual(expectedJoined());
      const store = await registry.open();
      expect((await store.list()).map((e) => e.version)).toEqual([1]);
      await store.close();
    });

    test('a version that does not compose, written past the check: the previous supergraph stays, the log says why', async () => {
      const store = await registry.open();
      try {
        await store.withLock(() =>
          store.put({
            name: NAME,
            url: partner.url,
            sdl: `${partner.sdl}\nextend type Organization { kind: Int }\n`,
            owner: 'Example city network',
            timeoutMs: 6000,
            publishedAt: new Date().toISOString(),
            publishedBy: 'a test',
          }),
        );
        for (const g of gateways) {
          const { answer } = await waitFor(
            async () => g.log.find((l) => l.line.level === 50 && /do not compose/.test(l.line.msg)),
            (found) => found !== undefined,
          );
          expect(answer?.line).toEqual(
            expect.objectContaining({
              subgraphs: [`${NAME}@2`],
              msg: expect.stringMatching(
                /^the registry's subgraphs do not compose \(.*Organization\.kind.*\): still serving the previous supergraph$/,
              ),
            }),
          );
          expect(await post(g.url, JOINED)).toEqual(expectedJoined());
        }
        // The next good version is served again (its check compares with our subgraphs, and warns why).
        const report = await publish(
          { store, coreUrls: system.subgraphUrls },
          { name: NAME, url: partner.url, sdl: newVersionOf(partner.sdl, 3) },
        );
        expect(report.outcome).toBe('published');
        expect(report.version).toBe(3);
        expect(report.warnings[0].message).toMatch(
          /^The subgraphs served now do not compose together any more/,
        );
        for (const g of gateways) {
          await waitFor(
            async () =>
              g.log.filter((l) => l.line.msg === 'serving a new supergraph from the schema registry').length,
            (n) => n >= 2,
          );
        }
      } finally {
        await store.close();
      }
    });

    test('a request in flight when a new version is served finishes on the supergraph it started with', async () => {
      const store = await registry.open();
      const swaps = () =>
        gateways[0].log.filter((l) => l.line.msg === 'serving a new supergraph from the schema registry');
      const before = swaps().length;
      // Long enough for the publication to be composed and served first even on a loaded CI machine (seen: 2.5 s),
      // and under the partner's 6 s timeout (published with --timeout-ms 6000 above).
      partner.setDelayMs(4000);
      try {
        const inFlight = post(gateways[0].url, JOINED).then((r) => ({ r, at: Date.now() }));
        await new Promise((r) => setTimeout(r, 200));
        const report = await publish(
          { store, coreUrls: system.subgraphUrls },
          { name: NAME, url: partner.url, sdl: newVersionOf(partner.sdl, 4) },
        );
        expect(report.outcome).toBe('published');
        const { r, at } = await inFlight;
        expect(r).toEqual(expectedJoined());
        const swap = swaps()[before];
        expect(swap).toBeDefined();
        expect(swap.at).toBeLessThan(at);
      } finally {
        partner.setDelayMs(0);
        await store.close();
      }
    });

    test('remove: refused for ours; for a partner, says what disappears, and the gateways stop serving it', async () => {
      const ours = await cli(['remove', '--name', 'organizations']);
      expect({ code: ours.code, stdout: ours.stdout }).toEqual({
        code: 1,
        stdout:
          'organizations: refused (1 problem):\n' +
          "  - [ownership] organizations is one of Civic Graph's own subgraphs: it changes with the code (schema/organizations.graphql), not through the registry.\n",
      });
      const out = await cli(['remove', '--name', NAME]);
      expect(out.code).toBe(0);
      expect(out.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          `${NAME}: removed (it was at version 4).`,
          'What disappears for clients:',
          '  - Organization.latestIndicator was removed.',
          '  - Query.indicatorKinds was removed.',
        ]),
      );
      for (const g of gateways) {
        const { answer, ms } = await waitFor(() => post(g.url, JOINED), unknownField);
        expect(unknownField(answer)).toBe(true);
        expect(ms).toBeLessThan(SERVED_WITHIN_MS);
      }
      expect(
        await post(gateways[0].url, '{ organization(id: "tn-municipality-34012") { names { fr } } }'),
      ).toEqual({
        data: { organization: { names: { fr: FR_NAME } } },
      });
      const again = await cli(['remove', '--name', NAME]);
      expect(again.code).toBe(1);
      expect(again.stdout).toContain(`No partner subgraph named ${NAME} in the registry`);
    });
  });
});

test('command lines that cannot run exit 64 with the usage; a subgraph that cannot be read exits 1', async () => {
  const registry = freshRegistry('directory');
  try {
    for (const args of [
      ['publish', '--url', partner.url],
      ['check', '--name', 'City Indicators', '--url', partner.url],
      ['check', '--name', NAME, '--url', 'ftp://example.org/graphql'],
      ['publish', '--name', NAME, '--url', partner.url, '--timeout-ms', 'soon'],
      ['list', '--name', NAME],
      ['rename', '--name', NAME],
      ['check', '--name', NAME, '--url', partner.url, '--verbose'],
    ]) {
      const out = await subgraphCli(registry.env, args);
      expect({ args, code: out.code, usage: out.stderr.includes('Usage:') }).toEqual({
        args,
        code: 64,
        usage: true,
      });
    }
    const down = await subgraphCli(registry.env, [
      'check',
      '--name',
      NAME,
      '--url',
      'http://127.0.0.1:9/graphql',
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^Could not reach city-indicators at http:\/\/127\.0\.0\.1:9\/graphql to read its SDL/,
    );
  } finally {
    await registry.drop();
  }
});

test("the SDL read of check is signed with the subgraph's secret; unsigned, the partner refuses it", async () => {
  const secret = randomBytes(32).toString('hex');
  const signed = await startPartnerSubgraph({ secret });
  const registry = freshRegistry('directory');
  try {
    const args = ['check', '--name', NAME, '--url', signed.url];
    const without = await subgraphCli(registry.env, args);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/did not return its SDL for \{ _service \{ sdl \} \} \(HTTP 401\)/);
    const withSecret = await subgraphCli({ ...registry.env, SUBGRAPH_SECRET_CITY_INDICATORS: secret }, args);
    expect({ code: withSecret.code, stdout: withSecret.stdout }).toEqual({
      code: 0,
      stdout: `${NAME}: may be published (new subgraph).\n`,
    });
  } finally {
    await signed.stop();
    await registry.drop();
  }
});

test('npm run start:gateway composes what is published at start, and follows a removal', async () => {
  const registry = freshRegistry('directory');
  const store = await registry.open();
  const dataDir = mkdtempSync(join(tmpdir(), 'civic-gateway-data-'));
  let child: ChildProcessWithoutNullStreams | undefined;
  try {
    expect(
      (
        await publish(
          { store, coreUrls: system.subgraphUrls },
          { name: NAME, url: partner.url, sdl: partner.sdl },
        )
      ).outcome,
    ).toBe('published');
    child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'gateway/src/index.ts'],
      {
        cwd: ROOT,
        env: {
          ...registry.env,
          HOST: '127.0.0.1',
          GATEWAY_PORT: '0',
          REGISTRY_POLL_MS: String(POLL_MS),
          // Whole answers are compared: without the cost report (REPORT_COST, on by default).
          REPORT_COST: 'false',
          // Its API keys' embedded database in a directory of its own, not the checkout's data/db.
          DATA_DIR: dataDir,
          ORGANIZATIONS_URL: system.subgraphUrls.organizations,
          COMMITMENTS_URL: system.subgraphUrls.commitments,
          BUDGETS_URL: system.subgraphUrls.budgets,
        },
      },
    ) as ChildProcessWithoutNullStreams;
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const m = /gateway ready at (http:\/\/\S+?)"/.exec(output);
        if (m) resolve(m[1].replace('localhost', '127.0.0.1'));
      });
      child!.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child!.once('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
    });
    expect(await post(url, JOINED)).toEqual(expectedJoined());
    expect((await removeSubgraph({ store, coreUrls: system.subgraphUrls }, NAME)).outcome).toBe('removed');
    const { answer } = await waitFor(() => post(url, JOINED), unknownField);
    expect(unknownField(answer)).toBe(true);
    // The log line may reach this process's pipe after the answer that shows the change: wait for it too.
    await waitFor(
      async () => output,
      (o) => o.includes('serving a new supergraph from the schema registry'),
    );
    expect(output).toContain('serving a new supergraph from the schema registry');
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    child = undefined;
  } finally {
    child?.kill('SIGKILL');
    await store.close();
    await registry.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
