import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The README's run command, for real: `npm start`'s script in a child process, on the embedded default
 * database (no DATABASE_URL), every port 0. It must seed an empty database, answer across all three
 * subgraphs, stop cleanly on Ctrl-C (SIGINT), and start again on the same files without seeding twice.
 */
const ROOT = join(__dirname, '..', '..');

function start(dataDir: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: '0',
    ORGANIZATIONS_PORT: '0',
    COMMITMENTS_PORT: '0',
    BUDGETS_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/start.ts'],
    {
      cwd: ROOT,
      env,
    },
  ) as ChildProcessWithoutNullStreams;
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
  return { child, ready, exited, output: () => output };
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
    });
    expect(first.output()).toMatch(/"msg":"seeded"/);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = start(dir);
    await second.ready;
    expect(second.output()).not.toMatch(/"msg":"seeded"/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
