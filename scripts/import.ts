/**
 * `npm run import -- <kind> <path> [options]` (also `npx civic-import`): loads a real file into the subgraph
 * that owns its data (MySQL with DATABASE_URL, the embedded SQLite files otherwise), validating every row.
 * Run with --help for the kinds and options. Exit status: 0 loaded (or validated, with --dry-run), 2 loaded
 * with refused rows, 3 nothing loaded (the file refused, or --strict and a row refused), 1 failed (a re-run
 * resumes after the last committed batch), 64 wrong usage.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { ImportParam } from '@civic/common/import/kinds';
import { runImport, type BoundPart, type ImportProgress } from '@civic/common/import/pipeline';
import { exitStatus, formatImportReport } from '@civic/common/import/report';
import { loadConfig, modulesInOrder } from '@civic/subgraphs';

/** In the catalog's order, which is the order their parts run: organizations before what refers to them. */
const SUBGRAPHS = modulesInOrder();

const EX_USAGE = 64;
const DEFAULT_BATCH = 2000;

class UsageError extends Error {}

function kinds() {
  const byKind = new Map<string, { description: string; params: ImportParam[] }>();
  for (const s of SUBGRAPHS)
    for (const i of s.module.importers) {
      const k = byKind.get(i.kind) ?? { description: i.description, params: [] };
      for (const p of i.params ?? []) if (!k.params.some((q) => q.name === p.name)) k.params.push(p);
      byKind.set(i.kind, k);
    }
  return byKind;
}

function usage(): string {
  // Wide enough that the longest kind name keeps two spaces before its description.
  const width = Math.max(22, ...[...kinds().keys()].map((name) => name.length + 2));
  const lines = [
    'Usage: npm run import -- <kind> <path> [options]',
    '',
    'Kinds:',
    ...[...kinds()].flatMap(([name, k]) => [
      `  ${name.padEnd(width)}${k.description}`,
      ...k.params.map((p) => `      --${p.name.padEnd(18)}${p.description}`),
    ]),
    '',
    'Options:',
    '  --report <file.json>    write the full report (every refused row: file, line, column, value, reason)',
    '  --strict                load nothing if any row is refused',
    '  --dry-run               validate and report, write nothing',
    "  --prune                 delete the records of this import's scope that the file no longer has",
    `  --batch-size <n>        valid rows per transaction (default ${DEFAULT_BATCH})`,
    '  --quiet                 no progress line',
    '',
    'Exit status: 0 loaded (or validated), 2 loaded with refused rows, 3 nothing loaded (file refused, or',
    '--strict with a refused row), 1 failed (run it again to resume), 64 wrong usage.',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const params = [...kinds().values()].flatMap((k) => k.params.map((p) => p.name));
  const flags = new Set(
    [...kinds().values()].flatMap((k) => k.params.filter((p) => p.flag).map((p) => p.name)),
  );
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      report: { type: 'string' },
      strict: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...Object.fromEntries(
        [...new Set(params)].map((p) => [
          p,
          { type: flags.has(p) ? ('boolean' as const) : ('string' as const) },
        ]),
      ),
    },
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const [kind, file, ...extra] = positionals;
  if (!kind || !file) throw new UsageError('give a kind and a file');
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const known = kinds().get(kind);
  if (!known) throw new UsageError(`unknown kind "${kind}" (kinds: ${[...kinds().keys()].join(', ')})`);
  const kindParams: Record<string, string | undefined> = {};
  for (const p of new Set(params)) {
    const v = (values as Record<string, unknown>)[p];
    if (v === undefined || v === false) continue;
    if (!known.params.some((q) => q.name === p)) throw new UsageError(`--${p} does not apply to ${kind}`);
    kindParams[p] = String(v);
  }
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new UsageError(`--batch-size must be an integer from 1 to 100000; got "${values['batch-size']}"`);
  if (values.prune && values['dry-run'])
    throw new UsageError('--dry-run writes nothing: --prune would have no effect');

  // Build every part first: a wrong kind option is reported before any database is opened.
  let wanted;
  try {
    wanted = SUBGRAPHS.flatMap((s) =>
      s.module.importers.filter((i) => i.kind === kind).map((i) => ({ ...s, part: i.part(kindParams) })),
    );
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }

  const config = loadConfig();
  const bound: BoundPart[] = [];
  const tty = process.stderr.isTTY && !values.quiet;
  const onProgress = tty
    ? (p: ImportProgress) =>
        process.stderr.write(
          `\r${p.part}: ${p.rows.toLocaleString('en')} rows, ${Math.round(p.rowsPerSecond).toLocaleString('en')} rows/s, ${p.refused} refused   `,
        )
    : undefined;
  try {
    for (const w of wanted) {
      const ds = await prepareSubgraph(w.module, config.storage[w.name], { seed: 'never' });
      bound.push({ part: w.part, ds });
    }
    const report = await runImport(kind, file, bound, {
      strict: values.strict,
      dryRun: values['dry-run'],
      prune: values.prune,
      batchSize,
      params: kindParams,
      onProgress,
    });
    if (tty) process.stderr.write('\n');
    console.log(formatImportReport(report));
    if (values.report) await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
    return exitStatus(report.outcome);
  } finally {
    for (const b of bound) await b.ds.destroy().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`import: ${(err as Error).message}\n\n${usage()}`);
      process.exit(EX_USAGE);
    }
    console.error(`import failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
