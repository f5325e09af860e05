import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run build` and the compiled services, as the Docker image and docker-compose run them (`npm run
 * serve:<name>`): the build completes, and the compiled organizations subgraph and gateway start on the embedded
 * database, answer a query across them, and stop on SIGTERM with exit code 0. What the compiled tree needs
 * beyond tsc's output (the non-TypeScript files beside the modules, the data and schema folders, the `@civic/*`
 * imports) is what this proves.
 */
const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const BUILD_WITHIN_MS = 240_000;

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'civic-build-'));
  const built = spawnSync(process.execPath, [TSX, join(ROOT, 'scripts', 'build.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BUILD_WITHIN_MS,
  });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`);
}, BUILD_WITHIN_MS + 10_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a compiled module with its port 0 and resolves with the port it says it bound. */
function serve(module: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [join(ROOT, 'build', module)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: join(dir, 'db'),
      LOG_FORMAT: 'json',
      ...env,
    },
  });
  children.push(child);
  let output = '';
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /"url":"http:\/\/[^:]+:(\d+)\/graphql"/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) =>
      reject(new Error(`${module} exited (${code}) before it was ready:\n${output}`)),
    );
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited };
}

test('the compiled organizations subgraph and gateway answer a query and stop cleanly', async () => {
  const organizations = serve('subgraphs/organizations/src/index.js', {
    ORGANIZATIONS_PORT: '0',
    HOST: '127.0.0.1',
  });
  const port = await organizations.ready;
  const url = `http://127.0.0.1:${port}/graphql`;
  const gateway = serve('gateway/src/index.js', {
    GATEWAY_PORT: '0',
    HOST: '127.0.0.1',
    ORGANIZATIONS_URL: url,
    // Not called by this query: the gateway only needs to know where they are.
    COMMITMENTS_URL: 'http://127.0.0.1:9/graphql',
    BUDGETS_URL: 'http://127.0.0.1:9/graphql',
  });
  const gatewayPort = await gateway.ready;
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept-language': 'fr' },
    body: JSON.stringify({ query: '{ organization(id: "gov-ma") { id name } }' }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { data: unknown }).data).toEqual({
    organization: { id: 'gov-ma', name: 'Maroc' },
  });
  gateway.child.kill('SIGTERM');
  organizations.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
  expect(await organizations.exited).toBe(0);
}, 180_000);
