/**
 * `npm run build`: the services as plain JavaScript in `build/`, for production (the Docker image and docker-compose
 * through `npm run serve:<name>`, the gateway benchmark). `npm start` and the `start:<name>` commands keep running the TypeScript
 * through tsx for development.
 *
 * Why not only tsx in production: tsx compiles every module with esbuild at start and keeps a loader hook on
 * every `require` for the life of the process; compiled once here, a service starts faster and holds less.
 *
 * `tsc -p tsconfig.build.json` writes `build/<same layout>/*.js`; then three things make that tree run as the
 * sources do:
 * - the files that are not TypeScript (saved queries, persisted-query manifests, the dashboard's page, ...)
 *   are copied beside the compiled modules, since the code finds them from its own directory;
 * - `build/data` and `build/schema` point at the repository's, because the code finds those two folders two
 *   levels above `common/src` (the SQLite files, the datasets, the checked-in supergraph);
 * - `build/node_modules/@civic/*` point at the compiled folders, so that the `@civic/...` imports (tsconfig
 *   `paths`, which tsc does not rewrite) resolve through Node's own lookup.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = dirname(__dirname);
const OUT = join(ROOT, 'build');
/** The source folders that are compiled, and so whose other files are copied. */
const SOURCES = ['common', 'formats', 'gateway', 'subgraphs'];
/** tsconfig `paths` as folders under build/: `@civic/<name>` → `build/<target>`. */
const ALIASES: Record<string, string> = {
  common: 'common/src',
  formats: 'formats',
  gateway: 'gateway/src',
  subgraphs: 'subgraphs',
};

function main() {
  const started = Date.now();
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) {
    console.error('build: tsc failed (see above); build/ was not completed');
    process.exit(tsc.status ?? 1);
  }
  let copied = 0;
  for (const dir of SOURCES) copied += copyAssets(join(ROOT, dir), join(OUT, dir));
  for (const name of ['data', 'schema']) link(join(ROOT, name), join(OUT, name));
  for (const [name, target] of Object.entries(ALIASES)) {
    link(join(OUT, target), join(OUT, 'node_modules', '@civic', name));
  }
  console.log(
    `build: compiled into ${relative(process.cwd(), OUT) || '.'}/ with ${copied} other files copied, in ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Copies every file under `from` that is not TypeScript (nor a test) to the same place under `to`. */
function copyAssets(from: string, to: string): number {
  let n = 0;
  for (const entry of readdirSync(from)) {
    if (entry === 'node_modules' || entry === 'generated-tests') continue;
    const src = join(from, entry);
    const dst = join(to, entry);
    if (statSync(src).isDirectory()) {
      n += copyAssets(src, dst);
      continue;
    }
    if (/\.(ts|tsx|mts|cts)$/.test(entry)) continue;
    mkdirSync(to, { recursive: true });
    cpSync(src, dst);
    n++;
  }
  return n;
}

/** A relative symbolic link at `at` to `target`, replacing whatever was there. */
function link(target: string, at: string) {
  mkdirSync(dirname(at), { recursive: true });
  // lstat, not exists: a dangling link from an earlier build must go too.
  if (lstatSync(at, { throwIfNoEntry: false })) rmSync(at, { recursive: true, force: true });
  symlinkSync(relative(dirname(at), target), at, 'dir');
}

main();
