import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { dropDatabase } from '@civic/common/db';
import { modulesInOrder, SUBGRAPH_NAMES } from '@civic/subgraphs';
import { BACKENDS } from '../support/system';
import { npmStartCommand, npmStartEnvironment } from '../support/start-env';

/**
 * The README's run command, for real: `npm start`'s script in a child process, on the embedded default
 * database (no DATABASE_URL), every port 0. It must seed an empty database, answer across all three
 * subgraphs, stop cleanly on Ctrl-C (SIGINT), and start again on the same files without seeding twice (where
 * a second Ctrl-C during a held stop exits at once, 130). On
 * MariaDB it must stop on SIGTERM (what docker and Kubernetes send) and exit 0: it used to hang there.
 */
const ROOT = join(__dirname, '..', '..');

/** Every child started; one a failed test left running is killed, so that jest can exit. */
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(dataDir: string, extra: NodeJS.ProcessEnv = {}) {
  const env = npmStartEnvironment(dataDir, extra);
  const { command, args } = npmStartCommand();
  const child = spawn(command, args, { cwd: ROOT, env }) as ChildProcessWithoutNullStreams;
  children.push(child);
  let output = '';
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /Civic Graph is ready: open http:\/\/localhost:(\d+)\//.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    ready,
    exited,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

/** Waits until `done()` holds, looking every 20 ms (jest's timeout bounds it). */
async function until(done: () => boolean) {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
}

test('npm start seeds the embedded database, serves the graph, and stops cleanly on Ctrl-C', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'civic-start-'));
  try {
    const first = start(dir);
    const port = await first.ready;
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ budget(id: "tn-34012-2018") { organization { names { ar } } total(direction: EXPENDITURE, phase: APPROVED) { amount } }
                  commitment(id: "MO0012") { leadOrganization { kind } } }`,
      }),
    });
    expect(await res.json()).toEqual({
      data: {
        budget: { organization: { names: { ar: 'بوعرادة' } }, total: { amount: '1437803.283' } },
        commitment: { leadOrganization: { kind: 'GOVERNMENT' } },
      },
      // As configured by default: what the query cost, and what is left of this client's budget this minute.
      extensions: { cost: { requested: 10, limit: 50_000, remaining: 200_000 - 10 } },
    });
    expect(first.output()).toMatch(/"msg":"seeded"/);
    // A subgraph's port answers only the gateway: a direct call, unsigned, is refused (issue 10).
    const direct = /organizations subgraph ready at (http:\/\/\S+\/graphql)/.exec(first.output())![1];
    const refused = await fetch(direct, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    expect(refused.status).toBe(401);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = start(dir);
    const port2 = await second.ready;
    expect(second.output()).not.toMatch(/"msg":"seeded"/);
    // A client that sent half a request holds the gateway's drain (up to SHUTDOWN_TIMEOUT_MS): a second Ctrl-C
    // then exits at once, with the shell's code for SIGINT.
    // allowHalfOpen: the client does not close its side when the server ends the connection, as a stuck one would.
    const held = connect({ port: port2, host: '127.0.0.1', allowHalfOpen: true });
    // The process exiting resets this connection (ECONNRESET), which is expected: not an error of the test.
    held.on('error', () => undefined);
    await new Promise((r) => held.once('connect', r));
    held.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    second.child.kill('SIGINT');
    // Until it says so, or has gone (then the next line says what it printed instead).
    await until(() => /"msg":"stopping"/.test(second.output()) || !second.running());
    expect(second.output()).toMatch(/"msg":"stopping"/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(130);
    held.destroy();
    expect(second.output()).toMatch(/"msg":"second signal while stopping: exiting now/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const onMysql = BACKENDS.includes('mysql') ? test : test.skip;

onMysql('on MariaDB, npm start stops every service on SIGTERM and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'civic-start-'));
  const server = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  const tag = `civic_test_sigterm_${Date.now().toString(36)}`;
  const urls = Object.fromEntries(
    SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_DATABASE_URL`, `${server}/${tag}_${n}`]),
  );
  try {
    const run = start(dir, { ...urls, GATEWAY_DATABASE_URL: `${server}/${tag}_gateway` });
    const port = await run.ready;
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ organization(id: "tn-municipality-34012") { budgets { id } } }' }),
    });
    expect(res.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const stopped = [...run.output().matchAll(/"service":"(\w+)","ms":\d+,"msg":"stopped"/g)].map(
      (m) => m[1],
    );
    // Every service drained before it closed its pools, with nothing left in flight to cut.
    expect([...run.output().matchAll(/"msg":"drained"/g)]).toHaveLength(SUBGRAPH_NAMES.length + 1);
    expect(run.output()).not.toMatch(/"cut":true/);
    // In the reverse order of their start: the gateway first, so no request reaches a stopped subgraph.
    expect(stopped).toEqual([
      'gateway',
      ...modulesInOrder()
        .map((m) => m.name)
        .reverse(),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const n of [...SUBGRAPH_NAMES, 'gateway']) {
      await dropDatabase({ type: 'mysql', url: server, database: `${tag}_${n}` });
    }
  }
});
