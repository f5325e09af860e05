import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import { createDataSource, dropDatabase } from '@civic/common/db';
import type { Service } from '@civic/common/service';
import { createKey, revokeKey } from '@civic/gateway/keys/api-keys';
import { runKeysCommand } from '@civic/gateway/keys/cli';
import { openKeyStore, type KeyStore } from '@civic/gateway/keys/store';
import { createGatewayService } from '@civic/gateway/server';
import { loadConfig } from '@civic/subgraphs';
import { runTsxScript, type CliResult } from '../support/import-cli';
import { BACKENDS, startSystem, type Backend, type GraphQLResponse, type System } from '../support/system';

/**
 * API keys (issue 10): `npm run keys` creates, lists and revokes them in the gateway's own database (an
 * embedded SQLite file, or MySQL), storing only each secret's SHA-256; a request with a key is its holder, with
 * the key's own cost per minute, while anonymous clients keep theirs; a malformed, unknown or revoked key gets
 * 401 INVALID_API_KEY, never silently anonymous, and the key text is in no answer and no log line.
 */

const ROOT = join(__dirname, '..', '..');
const KEY = /^cg_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$/;

let system: System;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  system = await startSystem('sqlite');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await system?.stop();
});

/** A fresh gateway database for keys: a SQLite file in a temporary DATA_DIR, or a uniquely named MySQL database. */
function freshKeyDatabase(backend: Backend): { config: GatewayDatabaseConfig; env: NodeJS.ProcessEnv } {
  const { DATABASE_URL: _d, GATEWAY_DATABASE_URL: _g, DATA_DIR: _dir, ...env } = process.env;
  if (backend === 'mysql') {
    const server = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
    const database = `civic_test_keys_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const config: GatewayDatabaseConfig = { type: 'mysql', url: server, database };
    cleanups.push(() => dropDatabase(config));
    return { config, env: { ...env, GATEWAY_DATABASE_URL: `${server}/${database}` } };
  }
  const dir = mkdtempSync(join(tmpdir(), 'civic-keys-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return { config: { type: 'sqlite', path: join(dir, 'gateway.sqlite') }, env: { ...env, DATA_DIR: dir } };
}

async function openStore(config: GatewayDatabaseConfig): Promise<KeyStore> {
  const store = await openKeyStore(config);
  cleanups.push(() => store.close());
  return store;
}

/**
 * Runs `npm run keys -- args` in this process, with the environment `env` (the command's own code, as
 * scripts/keys.ts runs it; {@link keysProcess} runs the script itself, more slowly).
 */
async function keysCli(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runKeysCommand([...args], {
    out: (text) => void (stdout += `${text}\n`),
    err: (text) => void (stderr += `${text}\n`),
    database: () => loadConfig(env).gatewayDatabase,
  });
  return { code, stdout, stderr };
}

/** Runs `npm run keys -- args` as people do (scripts/keys.ts through tsx, in a child process). */
function keysProcess(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliResult> {
  return runTsxScript('keys.ts', args, { ...env, LOG_LEVEL: 'silent' });
}

/** Every row of `api_keys`, every column, as the database holds it. */
async function storedRows(config: GatewayDatabaseConfig): Promise<Record<string, unknown>[]> {
  const ds = await createDataSource({ storage: config, entities: [], migrations: [] });
  await ds.initialize();
  try {
    return await ds.query('SELECT * FROM api_keys ORDER BY id');
  } finally {
    await ds.destroy();
  }
}

const secretOf = (key: string) => key.slice('cg_12345678_'.length);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(BACKENDS)('npm run keys (%s)', (backend) => {
  test('create, list and revoke; the key is printed once and stored only as the SHA-256 of its secret', async () => {
    const { config, env } = freshKeyDatabase(backend);
    const created = await keysCli(env, [
      'create',
      '--name',
      'Le Monde dashboard',
      '--cost-per-minute',
      '500000',
      '--export-rows',
      '2_000_000',
      '--json',
    ]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const first = JSON.parse(created.stdout);
    expect(first).toEqual({
      id: expect.stringMatching(/^cg_[a-z2-7]{8}$/),
      name: 'Le Monde dashboard',
      costPerMinute: 500000,
      exportRowsPerMinute: 2000000,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      revokedAt: null,
      key: expect.stringMatching(KEY),
    });
    expect(first.key.startsWith(`${first.id}_`)).toBe(true);

    const text = await keysCli(env, ['create', '--name', 'Partner platform', '--cost-per-minute', '300000']);
    expect(text.code).toBe(0);
    const second = /^ {2}(cg_\S+)$/m.exec(text.stdout)![1];
    expect(second).toMatch(KEY);
    expect(text.stdout).toContain(`Created API key ${second.slice(0, 11)} for Partner platform`);

    // Listed without their secrets; JSON for machines, a table for people.
    const [listed, table] = await Promise.all([keysCli(env, ['list', '--json']), keysCli(env, ['list'])]);
    expect(JSON.parse(listed.stdout)).toEqual([
      { ...first, key: undefined },
      {
        id: second.slice(0, 11),
        name: 'Partner platform',
        costPerMinute: 300000,
        exportRowsPerMinute: null,
        createdAt: expect.any(String),
        revokedAt: null,
      },
    ]);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID +NAME +COST\/MIN +EXPORT ROWS\/MIN +CREATED AT +REVOKED AT$/,
    );
    for (const out of [listed.stdout, table.stdout]) {
      expect(out).not.toContain(secretOf(first.key));
      expect(out).not.toContain(secretOf(second));
    }

    // The database holds the hash, never the key or its secret.
    const rows = await storedRows(config);
    expect(rows.map((r) => r.secret_sha256).sort()).toEqual(
      [sha256(secretOf(first.key)), sha256(secretOf(second))].sort(),
    );
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secretOf(first.key));
    expect(dump).not.toContain(secretOf(second));

    const [revoked, unknown] = await Promise.all([
      keysCli(env, ['revoke', first.id]),
      keysCli(env, ['revoke', 'cg_aaaaaaaa']),
    ]);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toMatch(new RegExp(`^Revoked ${first.id} \\(Le Monde dashboard\\)`));
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'There is no API key with the id "cg_aaaaaaaa" (see npm run keys -- list)\n',
    });
    const store = await openStore(config);
    expect((await store.get(first.id))!.revokedAt).toMatch(/^\d{4}-.*Z$/);
    expect((await store.get(second.slice(0, 11)))!.revokedAt).toBeNull();
  });
});

test('npm run keys: a wrong command line exits 64 naming the bad argument, and opens no database', async () => {
  const env = { ...process.env, GATEWAY_DATABASE_URL: 'mysql://nobody@127.0.0.1:1/never' };
  // The real script's exit status, once.
  const real = await keysProcess(env, ['create', '--name', 'x', '--cost-per-minute', 'ten']);
  expect({ code: real.code, stdout: real.stdout }).toEqual({ code: 64, stdout: '' });
  expect(real.stderr).toMatch(
    /^--cost-per-minute "ten": expected a whole number from 1 to 1000000000000\.\n\nUsage:/,
  );

  const cases: [string[], string][] = [
    [['create', '--cost-per-minute', '10'], '--name is required'],
    [
      ['create', '--name', 'x', '--cost-per-minute', '0'],
      '--cost-per-minute "0": expected a whole number from 1',
    ],
    [['create', '--name', 'x', '--cost-per-minute', '10', '--export-rows', 'lots'], '--export-rows "lots"'],
    [['create', '--name', 'x'], '--cost-per-minute is required'],
    [['revoke', 'not-an-id'], '"not-an-id" is not a key id'],
    [['list', '--name', 'x'], 'keys list does not take --name'],
    [['rotate'], 'Unknown command "rotate"'],
  ];
  const results = await Promise.all(cases.map(([args]) => keysCli(env, args)));
  // The database named (nowhere) was never opened: nothing said it could not be reached.
  results.forEach((r, i) => {
    expect({ args: cases[i][0], code: r.code, stdout: r.stdout }).toEqual({
      args: cases[i][0],
      code: 64,
      stdout: '',
    });
    expect(r.stderr.split('\n')[0]).toContain(cases[i][1]);
    expect(r.stderr).toContain('Usage:');
  });
});

interface Answer {
  status: number;
  headers: Headers;
  body: GraphQLResponse;
  text: string;
}

async function gql(url: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as GraphQLResponse, text };
}

/** Costs 2 + 10 x 1 = 12 (common/src/limits/cost.ts). */
const TWELVE = '{ organizations(first: 10) { nodes { id } } }';
/** Costs 2. */
const TWO = '{ organizations(first: 1) { totalCount } }';

const standing = (a: Answer) => [
  a.status,
  a.headers.get('ratelimit-limit'),
  a.headers.get('ratelimit-remaining'),
];

/** A gateway over the system's subgraphs with these keys, a cost per minute of 50 for anonymous clients, in memory. */
async function gatewayWithKeys(store: KeyStore, cacheTtlMs?: number): Promise<string> {
  const service: Service = await createGatewayService({
    subgraphUrls: system.subgraphUrls,
    rateLimit: { costPerMinute: 50, redisUrl: null },
    // The test closes the store itself (several gateways share it here): the gateway's close does nothing.
    keys: {
      store: {
        location: store.location,
        insert: (key) => store.insert(key),
        get: (id) => store.get(id),
        list: () => store.list(),
        revoke: (id, at) => store.revoke(id, at),
        close: async () => {},
      },
      cacheTtlMs,
    },
  });
  cleanups.push(() => service.stop());
  return (await service.listen(0, '127.0.0.1')).url;
}

describe('the gateway with API keys', () => {
  test('a key has its own cost per minute, its own RateLimit headers and its own 429; anonymous keeps its own', async () => {
    const store = await openStore(freshKeyDatabase('sqlite').config);
    const partner = await createKey(store, { name: 'partner', costPerMinute: 100 });
    const small = await createKey(store, { name: 'small', costPerMinute: 30 });
    const url = await gatewayWithKeys(store);
    const bearer = { authorization: `Bearer ${partner.key}` };

    const spent: Answer[] = [];
    for (let i = 0; i < 8; i++) spent.push(await gql(url, TWELVE, bearer));
    expect(spent.map(standing)).toEqual(
      [88, 76, 64, 52, 40, 28, 16, 4].map((left) => [200, '100', String(left)]),
    );
    expect(spent[0].headers.get('ratelimit-policy')).toBe('100;w=60');
    expect(spent[0].body.errors).toBeUndefined();

    // Past the key's 50th point, where an anonymous client would have been refused, and now at its own limit.
    const refused = await gql(url, TWELVE, bearer);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(standing(refused)).toEqual([429, '100', '4']);
    expect(refused.body.errors).toEqual([
      {
        message: `Cost: 12, more than the 4 left of the 100 your API key may spend in 60 s (the key's --cost-per-minute): try again in ${retryAfter} s`,
        extensions: { code: 'RATE_LIMITED', limit: 100, measured: 12, remaining: 4, retryAfter },
      },
    ]);
    // The same key sent as x-api-key is the same client, with the same budget.
    expect(standing(await gql(url, TWELVE, { 'x-api-key': partner.key }))).toEqual([429, '100', '4']);
    expect(standing(await gql(url, TWO, { 'x-api-key': partner.key }))).toEqual([200, '100', '2']);
    // Both headers at once, when they agree, are one key.
    expect(standing(await gql(url, TWO, { ...bearer, 'x-api-key': partner.key }))).toEqual([200, '100', '0']);

    // Anonymous clients (this address) keep RATE_LIMIT_COST_PER_MINUTE, untouched by the key's spending;
    // another key has its own quota.
    expect(standing(await gql(url, TWELVE))).toEqual([200, '50', '38']);
    expect(standing(await gql(url, TWELVE, { 'x-api-key': small.key }))).toEqual([200, '30', '18']);
  });

  test('a malformed, unknown or revoked key gets 401 INVALID_API_KEY, at /graphql and the exports, never echoed', async () => {
    const store = await openStore(freshKeyDatabase('sqlite').config);
    const valid = await createKey(store, { name: 'dashboard', costPerMinute: 100 });
    const revoked = await createKey(store, { name: 'old dashboard', costPerMinute: 100 });
    const { info } = await revokeKey(store, revoked.info.id);
    const url = await gatewayWithKeys(store);
    const root = url.replace(/\/graphql$/, '');
    const id = valid.info.id;
    const wrongSecret = `${id}_${randomBytes(32).toString('base64url')}`;
    const unknownKey = `cg_aaaaaaaa_${randomBytes(32).toString('base64url')}`;
    const malformed = `sk-live-${randomBytes(16).toString('hex')}`;

    const cases: [Record<string, string>, string, string][] = [
      [
        { authorization: `Bearer ${malformed}` },
        'malformed',
        'The API key is malformed: expected the whole key',
      ],
      [{ 'x-api-key': valid.key.slice(0, -1) }, 'malformed', 'The API key is malformed'],
      [{ authorization: 'Bearer' }, 'malformed', 'The API key is empty'],
      [{ 'x-api-key': unknownKey }, 'unknown', 'The API key cg_aaaaaaaa is not known to this gateway'],
      [
        { authorization: `Bearer ${wrongSecret}` },
        'unknown',
        `The API key ${id} is not known to this gateway`,
      ],
      [
        { authorization: `Bearer ${revoked.key}` },
        'revoked',
        `The API key ${revoked.info.id} was revoked on ${info.revokedAt}: ask for a new one`,
      ],
      [
        { authorization: `Bearer ${valid.key}`, 'x-api-key': revoked.key },
        'conflicting',
        'The request carries two different API keys',
      ],
    ];
    for (const [headers, reason, message] of cases) {
      for (const target of [url, `${root}/export.json?name=organizations`]) {
        const res = await fetch(target, {
          method: target === url ? 'POST' : 'GET',
          headers: { 'content-type': 'application/json', ...headers },
          body: target === url ? JSON.stringify({ query: TWO }) : undefined,
        });
        const text = await res.text();
        expect({ reason, target, status: res.status }).toEqual({ reason, target, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="civic-graph", error="invalid_token"');
        expect(JSON.parse(text)).toEqual({
          errors: [
            { message: expect.stringContaining(message), extensions: { code: 'INVALID_API_KEY', reason } },
          ],
        });
        for (const sent of Object.values(headers)) {
          const secret = sent.replace(/^Bearer ?/, '');
          if (secret.length > 12) expect(text).not.toContain(secret.slice(12));
        }
      }
    }
    // The valid key, and no key at all, still work.
    expect(standing(await gql(url, TWO, { authorization: `Bearer ${valid.key}` }))).toEqual([
      200,
      '100',
      '98',
    ]);
    expect(standing(await gql(url, TWO))).toEqual([200, '50', '48']);
    // Another scheme (a proxy's own Basic login) is not an API key: the client is anonymous.
    expect(standing(await gql(url, TWO, { authorization: 'Basic dXNlcjpwYXNz' }))).toEqual([200, '50', '46']);
  });

  test('keys are cached for cacheTtlMs: a revocation is seen once that has passed, a new key at once', async () => {
    const store = await openStore(freshKeyDatabase('sqlite').config);
    const key = await createKey(store, { name: 'dashboard', costPerMinute: 100 });
    const cached = await gatewayWithKeys(store, 60_000);
    const quick = await gatewayWithKeys(store, 100);
    const headers = { 'x-api-key': key.key };
    expect((await gql(cached, TWO, headers)).status).toBe(200);
    expect((await gql(quick, TWO, headers)).status).toBe(200);
    await revokeKey(store, key.info.id);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Within its cache's time the first gateway still trusts what it read; the other reads the revocation.
    expect((await gql(cached, TWO, headers)).status).toBe(200);
    const refused = await gql(quick, TWO, headers);
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0].extensions).toEqual({ code: 'INVALID_API_KEY', reason: 'revoked' });
    // A key created after the gateway read others works at once.
    const fresh = await createKey(store, { name: 'new dashboard', costPerMinute: 70 });
    expect(standing(await gql(cached, TWO, { 'x-api-key': fresh.key }))).toEqual([200, '70', '68']);
  });
  test('the key store unreachable: a key read before keeps working, one never read gets 503', async () => {
    const store = await openStore(freshKeyDatabase('sqlite').config);
    const known = await createKey(store, { name: 'known', costPerMinute: 100 });
    const never = await createKey(store, { name: 'never read', costPerMinute: 100 });
    // Every request reads the store again (1 ms), so only what was read before can stand in for it.
    const url = await gatewayWithKeys(store, 1);
    expect((await gql(url, TWO, { 'x-api-key': known.key })).status).toBe(200);
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(standing(await gql(url, TWO, { 'x-api-key': known.key }))).toEqual([200, '100', '96']);
    const unavailable = await gql(url, TWO, { 'x-api-key': never.key });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(unavailable.body).toEqual({
      errors: [
        {
          message: 'API keys cannot be checked right now: try again shortly',
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        },
      ],
    });
    // Anonymous clients do not depend on the key store.
    expect((await gql(url, TWO)).status).toBe(200);
  });
});

test('npm run start:gateway reads the keys npm run keys wrote, and no log line carries a key', async () => {
  // MySQL when the run has it (the SQLite store is the other tests'), as a deployment with DATABASE_URL has.
  const backend = BACKENDS.at(-1)!;
  const { env } = freshKeyDatabase(backend);
  const registry = mkdtempSync(join(tmpdir(), 'civic-keys-registry-'));
  cleanups.push(async () => rmSync(registry, { recursive: true, force: true }));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'gateway/src/index.ts'],
    {
      cwd: ROOT,
      env: {
        ...env,
        REGISTRY_DIR: registry,
        LOG_LEVEL: 'debug',
        HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        RATE_LIMIT_COST_PER_MINUTE: '30',
        ORGANIZATIONS_URL: system.subgraphUrls.organizations,
        COMMITMENTS_URL: system.subgraphUrls.commitments,
        BUDGETS_URL: system.subgraphUrls.budgets,
      },
    },
  ) as ChildProcessWithoutNullStreams;
  cleanups.push(async () => void child.kill('SIGKILL'));
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /gateway ready at (http:\/\/\S+?)"/.exec(output);
      if (m) resolve(m[1].replace('localhost', '127.0.0.1'));
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  // The real script creates the key while the gateway starts: it reads keys when they are used.
  const [url, created] = await Promise.all([
    ready,
    keysProcess(env, ['create', '--name', 'newsroom', '--cost-per-minute', '5000', '--json']),
  ]);
  expect(created.code).toBe(0);
  const good = JSON.parse(created.stdout) as { id: string; key: string };
  const old = JSON.parse(
    (await keysCli(env, ['create', '--name', 'old', '--cost-per-minute', '5000', '--json'])).stdout,
  ) as { id: string; key: string };
  expect((await keysCli(env, ['revoke', old.id])).code).toBe(0);

  expect(standing(await gql(url, TWELVE, { authorization: `Bearer ${good.key}` }))).toEqual([
    200,
    '5000',
    '4988',
  ]);
  expect(standing(await gql(url, TWELVE))).toEqual([200, '30', '18']);
  const siliana = encodeURIComponent(JSON.stringify({ filter: { parentId: 'tn-governorate-siliana' } }));
  const exported = await fetch(
    `${url.replace(/\/graphql$/, '')}/export.csv?name=organizations&variables=${siliana}`,
    {
      headers: { 'x-api-key': good.key },
    },
  );
  expect(exported.status).toBe(200);
  await exported.arrayBuffer();
  const refused = [
    await gql(url, TWO, { authorization: `Bearer ${old.key}` }),
    await gql(url, TWO, { 'x-api-key': `${good.id}_${randomBytes(32).toString('base64url')}` }),
    await gql(url, TWO, { 'x-api-key': `${good.key}x` }),
  ];
  expect(refused.map((r) => [r.status, r.body.errors![0].extensions!.reason])).toEqual([
    [401, 'revoked'],
    [401, 'unknown'],
    [401, 'malformed'],
  ]);

  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  // The refusals were logged by the key's public id, with the reason; no line carries a secret.
  expect(output).toMatch(new RegExp(`"keyId":"${old.id}","reason":"revoked".*"msg":"API key refused"`));
  for (const key of [good.key, old.key]) expect(output).not.toContain(secretOf(key));
  for (const r of refused) expect(r.text).not.toContain(secretOf(good.key));
});
