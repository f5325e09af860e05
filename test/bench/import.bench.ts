/**
 * `npm run bench:import [-- --kinds a,b --backends sqlite,mysql --scale F]`: rows per second and peak memory
 * of every importer, on generated files (test/bench/files/<kind>.ts), into the embedded SQLite files and
 * into MySQL (DATABASE_URL, default mysql://root@127.0.0.1:3306). Each import runs as its own process, the
 * way people run it (`scripts/import.ts`), into fresh databases: first into empty tables (every row
 * inserted), then the same file again (every row compared and found unchanged). The figures are the
 * importer's own (reading, validating and writing; not the process start-up and migrations), taken from
 * its --report. A benchmark, not a test: it fails only when an import does not load every row.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropDatabase } from '@civic/common/db';
import { SUBGRAPH_NAMES as SUBGRAPHS } from '@civic/subgraphs/catalog';
import type { ImportReport } from '@civic/common/import/report';

type Writer = (
  dir: string,
  rows: number,
  seed?: number,
) => Promise<{ path: string; params: Record<string, string> }>;

/** Rows per kind at --scale 1: budget lines are the bulk kind. */
const KINDS: { kind: string; rows: number }[] = [
  { kind: 'fiscal-data-package', rows: 200_000 },
  { kind: 'tn-municipal-budget', rows: 200_000 },
  { kind: 'organizations', rows: 50_000 },
  { kind: 'admin-divisions', rows: 20_000 },
  { kind: 'ogp-commitments', rows: 10_000 },
];

const ROOT = join(__dirname, '..', '..');

async function writerFor(kind: string): Promise<Writer> {
  const mod = (await import(`./files/${kind}`)) as Record<string, unknown>;
  const fn = Object.entries(mod).find(([name, v]) => /^write.*File$/.test(name) && typeof v === 'function');
  if (!fn) throw new Error(`test/bench/files/${kind}.ts exports no write…File function`);
  return fn[1] as Writer;
}

function runImport(
  kind: string,
  path: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv,
  report: string,
) {
  const args = [join(ROOT, 'scripts/import.ts'), kind, path, '--quiet', '--report', report];
  for (const [k, v] of Object.entries(params)) args.push(`--${k}`, v);
  return new Promise<ImportReport>((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, {
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.endsWith('DATABASE_URL'))),
        ...env,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`import ${kind} exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(readFileSync(report, 'utf8')) as ImportReport);
    });
  });
}

async function dropBenchDatabases(url: string) {
  for (const s of SUBGRAPHS) await dropDatabase({ type: 'mysql', url, database: `bench_import_${s}` });
}

/** The URL of the bench database of one subgraph, on the server of `url`. */
function benchDatabaseUrl(url: string, subgraph: string): string {
  const u = new URL(url);
  u.pathname = `/bench_import_${subgraph}`;
  return u.toString();
}

const written = (r: ImportReport) =>
  r.parts.reduce((s, p) => s + Object.values(p.tables).reduce((t, c) => t + c.inserted + c.updated, 0), 0);

async function main() {
  const { values } = parseArgs({
    options: {
      kinds: { type: 'string' },
      backends: { type: 'string', default: 'sqlite,mysql' },
      scale: { type: 'string', default: '1' },
    },
  });
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 20))
    throw new Error(`--scale must be a number from 0 (excluded) to 20; got "${values.scale}"`);
  const wantedKinds = values.kinds ? values.kinds.split(',') : KINDS.map((k) => k.kind);
  const unknown = wantedKinds.filter((k) => !KINDS.some((x) => x.kind === k));
  if (unknown.length) throw new Error(`unknown kind(s) ${unknown.join(', ')}`);
  const backends = values.backends.split(',');
  const mysqlUrl = process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306';
  const work = mkdtempSync(join(tmpdir(), 'civic-bench-import-'));
  console.log(`bench:import — node ${process.version}; files in ${work}`);
  console.log(
    `${'kind'.padEnd(22)}${'backend'.padEnd(9)}${'rows'.padStart(9)}${'first s'.padStart(9)}${'rows/s'.padStart(9)}` +
      `${'again s'.padStart(9)}${'rows/s'.padStart(9)}${'peak MiB'.padStart(10)}`,
  );
  try {
    for (const { kind, rows: base } of KINDS.filter((k) => wantedKinds.includes(k.kind))) {
      const rows = Math.round(base * scale);
      const fileDir = join(work, kind);
      const { path, params } = await (await writerFor(kind))(fileDir, rows, 1);
      for (const backend of backends) {
        const dataDir = join(work, `db-${kind}-${backend}`);
        const env: NodeJS.ProcessEnv =
          backend === 'mysql'
            ? Object.fromEntries(
                SUBGRAPHS.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, benchDatabaseUrl(mysqlUrl, s)]),
              )
            : { DATA_DIR: dataDir };
        if (backend === 'mysql') await dropBenchDatabases(mysqlUrl);
        try {
          const first = await runImport(kind, path, params, env, join(work, 'r1.json'));
          const again = await runImport(kind, path, params, env, join(work, 'r2.json'));
          if (first.rows.refused || first.outcome !== 'loaded')
            throw new Error(
              `${kind}: the generated file did not load cleanly (${first.outcome}, ${first.rows.refused} refused)`,
            );
          if (written(again) !== 0)
            throw new Error(`${kind}: importing the same file again wrote ${written(again)} rows`);
          console.log(
            `${kind.padEnd(22)}${backend.padEnd(9)}${String(first.rows.read).padStart(9)}` +
              `${first.seconds.toFixed(1).padStart(9)}${String(Math.round(first.rowsPerSecond)).padStart(9)}` +
              `${again.seconds.toFixed(1).padStart(9)}${String(Math.round(again.rowsPerSecond)).padStart(9)}` +
              `${String(Math.max(first.peakRssMiB, again.peakRssMiB)).padStart(10)}`,
          );
        } finally {
          if (backend === 'mysql') await dropBenchDatabases(mysqlUrl);
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
      rmSync(fileDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:import failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
