import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '@civic/common/service';
import { sign } from '@civic/common/signing';
import { createKey, revokeKey } from '@civic/gateway/keys/api-keys';
import { openKeyStore } from '@civic/gateway/keys/store';
import { sha256Hex } from '@civic/gateway/persisted/documents';
import { createGatewayService, type GatewayOptions } from '@civic/gateway/server';
import { comparable, header, ORGANIZATION, PERSISTED_ID, post, type Raw, send } from '../support/raw-http';
import { dropRedisKeys } from '../support/rate-limit';
import { startSystem, type System } from '../support/system';

// GraphQL POSTs run without Express (common/src/front-graphql.ts): each request is sent to two gateways on the same
// subgraphs, one running such POSTs itself and one with `graphqlFront: false` (every request through Express), and
// their answers must be the same bytes: status, headers in order, body. The front gateway's
// graphql_requests_front_total says which requests it ran itself and which it handed to Express.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A request, and whether the front path runs it (else Express does, as before). */
interface Case {
  name: string;
  body: string;
  headers?: Record<string, string>;
  front: boolean;
}

const json = (v: unknown) => JSON.stringify(v);

/** The front gateway's count of requests it ran without Express. */
async function frontCount(url: string): Promise<number> {
  const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('graphql_requests_front_total'));
  return Number(line?.split(' ').pop() ?? NaN);
}

describe('GraphQL POSTs run without Express', () => {
  const prefix = `civic:test:front:${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'civic-front-'));
  let sys: System;
  const opened: Service[] = [];
  let n = 0;

  /** A gateway on the system's subgraphs, with the rate limit, API keys and persisted queries on. */
  async function gateway(options: Partial<GatewayOptions> = {}) {
    const service = await createGatewayService({
      subgraphUrls: sys.subgraphUrls,
      reportCost: true,
      rateLimit: { costPerMinute: 100_000, redisUrl: null, keyPrefix: `${prefix}:rl:${n++}` },
      keys: { store: await openKeyStore({ type: 'sqlite', path: join(dir, 'keys.sqlite') }), cacheTtlMs: 0 },
      persisted: {},
      responseCache: { mode: 'off' },
      ...options,
    });
    opened.push(service);
    return (await service.listen(0, '127.0.0.1')).url;
  }

  beforeAll(async () => {
    sys = await startSystem('sqlite');
  });

  afterAll(async () => {
    for (const s of opened) await s.stop();
    await sys?.stop();
    await dropRedisKeys(REDIS_URL, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends each case to both gateways and compares; checks which ran on the front path. */
  async function compare(front: string, express: string, cases: Case[]) {
    const answers: { name: string; a: Raw; b: Raw }[] = [];
    for (const [i, c] of cases.entries()) {
      const headers = { 'x-request-id': `front-${i}`, ...c.headers };
      const before = await frontCount(front);
      const a = await post(front, c.body, headers);
      const ran = (await frontCount(front)) - before;
      const b = await post(express, c.body, headers);
      expect({ name: c.name, front: ran }).toEqual({ name: c.name, front: c.front ? 1 : 0 });
      expect({ name: c.name, ...comparable(a) }).toEqual({ name: c.name, ...comparable(b) });
      answers.push({ name: c.name, a, b });
    }
    return answers;
  }

  it('answers with the bytes Express would, and leaves to Express what it refuses', async () => {
    const store = await openKeyStore({ type: 'sqlite', path: join(dir, 'keys.sqlite') });
    const { key } = await createKey(store, { name: 'front-test', costPerMinute: 5000 });
    const { key: revoked, info } = await createKey(store, { name: 'front-revoked', costPerMinute: 5000 });
    await revokeKey(store, info.id);
    await store.close();
    const front = await gateway();
    const express = await gateway({ graphqlFront: false });
    const apqQuery = '{ organization(id: "gov-ma") { id name } }';
    const apq = { persistedQuery: { version: 1, sha256Hash: sha256Hex(apqQuery) } };
    const cases: Case[] = [
      { name: 'a query', body: json({ query: ORGANIZATION, variables: { id: 'gov-tn' } }), front: true },
      {
        name: 'Origin, Accept, operation name, language',
        body: json({ query: ORGANIZATION, variables: { id: 'gov-tn' }, operationName: 'Org' }),
        headers: {
          origin: 'https://news.example',
          accept: 'application/graphql-response+json',
          'accept-language': 'ar',
        },
        front: true,
      },
      {
        name: 'invalid, legacy JSON client (200)',
        body: json({ query: '{ organization(id: "gov-tn") { nope } }' }),
        headers: { accept: 'application/json' },
        front: true,
      },
      { name: 'unparsable (400)', body: json({ query: '{ organization(' }), front: true },
      {
        name: 'a variable of the wrong type',
        body: json({ query: ORGANIZATION, variables: { id: { not: 'an id' } } }),
        front: true,
      },
      {
        name: 'over the depth limit',
        body: json({ query: `{ ${'a { '.repeat(40)}b${' }'.repeat(40)} }` }),
        front: true,
      },
      {
        name: 'a persisted document by id',
        body: json({ documentId: `sha256:${PERSISTED_ID}`, operationName: 'DashboardCommitmentsByCountry' }),
        front: true,
      },
      { name: 'an unknown persisted id', body: json({ id: 'f'.repeat(64) }), front: false },
      { name: 'an APQ hash not registered', body: json({ extensions: apq }), front: false },
      { name: 'an APQ registration', body: json({ query: apqQuery, extensions: apq }), front: true },
      { name: 'an APQ hash registered', body: json({ extensions: apq }), front: true },
      {
        name: 'a valid API key',
        body: json({ query: ORGANIZATION, variables: { id: 'gov-fr' } }),
        headers: { authorization: `Bearer ${key}` },
        front: true,
      },
      {
        name: 'a revoked API key',
        body: json({ query: ORGANIZATION, variables: { id: 'gov-fr' } }),
        headers: { 'x-api-key': revoked },
        front: false,
      },
      { name: 'not JSON', body: '{"query": ', front: false },
      { name: 'a batch', body: json([{ query: '{ __typename }' }]), front: false },
      { name: 'a JSON string', body: json('{ __typename }'), front: false },
      {
        name: 'text/plain (CSRF)',
        body: json({ query: '{ __typename }' }),
        headers: { 'content-type': 'text/plain' },
        front: false,
      },
    ];
    const answers = await compare(front, express, cases);
    const status = Object.fromEntries(answers.map(({ name, a }) => [name, a.status]));
    // What each answer is, so that "the same bytes" is not two identical failures.
    expect(status).toEqual({
      'a query': 200,
      'Origin, Accept, operation name, language': 200,
      'invalid, legacy JSON client (200)': 200,
      'unparsable (400)': 400,
      'a variable of the wrong type': 400,
      'over the depth limit': 400,
      'a persisted document by id': 200,
      'an unknown persisted id': 400,
      'an APQ hash not registered': 200,
      'an APQ registration': 200,
      'an APQ hash registered': 200,
      'a valid API key': 200,
      'a revoked API key': 401,
      'not JSON': 400,
      'a batch': 400,
      'a JSON string': 400,
      'text/plain (CSRF)': 400,
    });
    const data = (name: string) =>
      JSON.parse(answers.find((x) => x.name === name)!.a.body) as { data?: unknown };
    expect(data('a query').data).toEqual({ organization: { id: 'gov-tn', name: 'Tunisie', country: 'TN' } });
    expect(data('an APQ hash registered').data).toEqual({ organization: { id: 'gov-ma', name: 'Maroc' } });
    expect(header(answers[1].a, 'content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(header(answers[11].a, 'ratelimit-policy')).toBeDefined();
  });

  it('with a list of origins: CORS headers and Vary as Express sends them', async () => {
    const before = process.env.CORS_ORIGINS;
    process.env.CORS_ORIGINS = 'https://news.example,https://city.example';
    let front: string, express: string;
    try {
      front = await gateway();
      express = await gateway({ graphqlFront: false });
    } finally {
      if (before === undefined) delete process.env.CORS_ORIGINS;
      else process.env.CORS_ORIGINS = before;
    }
    const body = json({ query: ORGANIZATION, variables: { id: 'gov-tn' } });
    const answers = await compare(front, express, [
      { name: 'allowed origin', body, headers: { origin: 'https://city.example' }, front: true },
      { name: 'other origin', body, headers: { origin: 'https://evil.example' }, front: true },
      { name: 'no origin', body, front: true },
    ]);
    expect(header(answers[0].a, 'access-control-allow-origin')).toBe('https://city.example');
    expect(header(answers[0].a, 'vary')).toMatch(/Origin/);
    expect(header(answers[1].a, 'access-control-allow-origin')).toBeUndefined();
  });

  it('past the deadline: 504 REQUEST_TIMEOUT, as through Express', async () => {
    const front = await gateway({ requestDeadlineMs: 1 });
    const express = await gateway({ graphqlFront: false, requestDeadlineMs: 1 });
    const body = json({
      query: '{ commitments(first: 50) { nodes { id title leadOrganization { name } } } }',
    });
    const [{ a }] = await compare(front, express, [{ name: 'deadline', body, front: true }]);
    expect(a.status).toBe(504);
    expect(JSON.parse(a.body).errors[0].extensions.code).toBe('REQUEST_TIMEOUT');
  });

  it('a signed subgraph runs the gateway’s signed calls without Express, and refuses the others through it', async () => {
    const secret = randomBytes(32).toString('hex');
    const signed = await startSystem('sqlite', { secrets: { organizations: secret } });
    try {
      const url = signed.subgraphUrls.organizations;
      const body = json({ query: '{ organizations(first: 1) { nodes { id } } }' });
      const before = await frontCount(url);
      const ok = await send(url, {
        method: 'POST',
        body,
        headers: { 'x-civic-signature': sign(secret, body) },
      });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).data.organizations.nodes).toHaveLength(1);
      expect(await frontCount(url)).toBe(before + 1);
      const unsigned = await send(url, { method: 'POST', body });
      const forged = await send(url, {
        method: 'POST',
        body,
        headers: { 'x-civic-signature': sign('another secret', body) },
      });
      expect([unsigned.status, forged.status]).toEqual([401, 401]);
      expect(JSON.parse(forged.body).errors[0].extensions).toEqual({
        code: 'UNAUTHENTICATED',
        reason: 'wrong',
      });
      expect(await frontCount(url)).toBe(before + 1);
      // Through the gateway, which signs: every call to it ran on its front path.
      const through = await post(signed.gatewayUrl, { query: '{ organization(id: "gov-tn") { name } }' });
      expect(JSON.parse(through.body).data).toEqual({ organization: { name: 'Tunisie' } });
      expect(await frontCount(url)).toBe(before + 2);
    } finally {
      await signed.stop();
    }
  });
});
