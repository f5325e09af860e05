/**
 * `npx tsx test/bench/line-search-relevance.bench.ts [-- --backends sqlite,mysql --lines N]`: how budget lines
 * rank when indexed as one search document each (their `all` row, ranked by it: budgets' search.ts LINE_INDEX)
 * against one document per label field plus the `all` row (ranked by the sum of the per-field matches, as
 * before). The corpus: the seed (Bou Arada's budgets, Arabic labels) and a generated fiscal data package of N
 * lines (test/bench/files; Arabic and French labels, classification codes with labels), imported into fresh
 * databases (MySQL: DATABASE_URL, default mysql://root@127.0.0.1:3306, databases `bench_relevance_*`). Every
 * line is indexed the old way, each query ranked; then the same lines the new way (the per-field rows gone),
 * each query ranked again. For each query: the matches (the same set both ways, or it fails), whether the
 * first result is the same (by score, ties by id as the lists order them), and Kendall's tau-b of the two
 * scorings over the matches. A comparison, not a test: it fails only when the two ways find different lines.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { dropDatabase } from '@civic/common/db';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { indexDocuments, searchQuery, searchScores, settleSearchStatistics } from '@civic/common/search';
import { MODULES, SUBGRAPH_NAMES as SUBGRAPHS } from '@civic/subgraphs';
import { codeKey, loadCodes, pathCodes, type CodeEntry } from '@civic/subgraphs/budgets/src/classifications';
import { LINE_SEARCH_TYPE, lineDocuments } from '@civic/subgraphs/budgets/src/search';
import { writeFiscalDataPackageFile } from './files/fiscal-data-package';

const ROOT = join(__dirname, '..', '..');

/**
 * The searches of test/e2e on budget lines (budgets-search, import and facts tests) that find lines in this
 * corpus, and searches in the generated file's words (formats/vocabulary.ts), one word and two.
 */
const QUERIES = [
  'منح',
  'معلوم',
  'الإعتناء',
  'القروض',
  'الأجر',
  'أجر',
  'الطريق العام',
  'الطريق',
  'منحة الخصوصية',
  'الشفافية',
  'الصحة التعليم',
  'البلدية التنمية',
  'النزاهة',
  'transparence',
  'santé éducation',
  'marchés publics',
  'accès information',
  'numéri',
];

/** Kendall's tau-b of two scorings of the same items (ties counted out as tau-b does). */
function kendallTauB(a: readonly number[], b: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = i + 1; j < a.length; j++) {
      const x = Math.sign(a[i] - a[j]);
      const y = Math.sign(b[i] - b[j]);
      if (x === 0 && y === 0) continue;
      if (x === 0) tiesA++;
      else if (y === 0) tiesB++;
      else if (x === y) concordant++;
      else discordant++;
    }
  const d = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return d === 0 ? 1 : (concordant - discordant) / d;
}

/** The first result of a ranking: the highest score, ties by id (code point order). */
function first(scores: ReadonlyMap<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const [id, s] of scores) if (!best || s > best[1] || (s === best[1] && id < best[0])) best = [id, s];
  return best?.[0];
}

function runImport(path: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = [join(ROOT, 'scripts/import.ts'), 'fiscal-data-package', path, '--quiet'];
  return new Promise((resolve, reject) => {
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
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`import exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

/** Every line's documents as the importers give them: its labels and its classifications' labels. */
async function allLineDocuments(ds: DataSource) {
  const lines: { id: string; labelAr: string; labelFr: string; labelEn: string; labelEs: string }[] =
    await ds.query(
      'SELECT id, label_ar AS labelAr, label_fr AS labelFr, label_en AS labelEn, label_es AS labelEs FROM budget_lines',
    );
  const dims: { line_id: string; scheme: string; path: string }[] = await ds.query(
    'SELECT line_id, scheme, path FROM budget_line_dimensions ORDER BY line_id, position',
  );
  const refs = new Map<string, { scheme: string; code: string }>();
  const refsOf = new Map<string, { scheme: string; code: string }[]>();
  for (const d of dims)
    for (const code of pathCodes(d)) {
      const r = { scheme: d.scheme, code };
      refs.set(codeKey(r), r);
      const list = refsOf.get(d.line_id);
      if (list) list.push(r);
      else refsOf.set(d.line_id, [r]);
    }
  const list = [...refs.values()];
  const entries = await loadCodes(ds, list);
  const byKey = new Map(list.map((r, i) => [codeKey(r), entries[i]]));
  const codes = new Map<string, (CodeEntry | null)[]>(
    lines.map((l) => [l.id, (refsOf.get(l.id) ?? []).map((r) => byKey.get(codeKey(r)) ?? null)]),
  );
  return { count: lines.length, docs: lineDocuments(lines, codes) };
}

async function rankings(ds: DataSource, perField: boolean) {
  const out = new Map<string, Map<string, number>>();
  for (const q of QUERIES)
    out.set(q, await searchScores(ds.manager, searchQuery(ds, LINE_SEARCH_TYPE, q, { perField })));
  return out;
}

async function compare(backend: string, lines: number, work: string, mysqlUrl: string) {
  const names = Object.fromEntries(SUBGRAPHS.map((s) => [s, `bench_relevance_${s}`]));
  const storage: StorageConfig =
    backend === 'mysql'
      ? { type: 'mysql', url: mysqlUrl, database: names.budgets }
      : { type: 'sqlite', path: join(work, 'budgets.sqlite') };
  const env: NodeJS.ProcessEnv =
    backend === 'mysql'
      ? Object.fromEntries(
          SUBGRAPHS.map((s) => {
            const u = new URL(mysqlUrl);
            u.pathname = `/${names[s]}`;
            return [`${s.toUpperCase()}_DATABASE_URL`, u.toString()];
          }),
        )
      : { DATA_DIR: work };
  const ds = await prepareSubgraph(MODULES.budgets, storage, { seed: 'always' });
  try {
    if (lines > 0) {
      const { path } = await writeFiscalDataPackageFile(join(work, 'files'), lines, 1);
      await runImport(path, env);
    }
    const { count, docs } = await allLineDocuments(ds);
    await ds.transaction((m) => indexDocuments(m, docs, { perField: true }));
    await settleSearchStatistics(ds);
    const [{ n: before }] = await ds.query('SELECT COUNT(*) AS n FROM search_documents');
    const old = await rankings(ds, true);
    await ds.transaction((m) => indexDocuments(m, docs, { perField: false }));
    await settleSearchStatistics(ds);
    const [{ n: after }] = await ds.query('SELECT COUNT(*) AS n FROM search_documents');
    const now = await rankings(ds, false);
    console.log(
      `\n${backend}: ${count} lines; search documents: ${before} per field + all, ${after} all only`,
    );
    console.log(
      `${'query'.padEnd(20)}${'matches'.padStart(8)}${'same 1st'.padStart(10)}${'tau-b'.padStart(8)}`,
    );
    let same = 0;
    const taus: number[] = [];
    for (const q of QUERIES) {
      const a = old.get(q)!;
      const b = now.get(q)!;
      const ids = [...a.keys()].sort();
      const idsB = [...b.keys()].sort();
      if (JSON.stringify(ids) !== JSON.stringify(idsB))
        throw new Error(`${backend} "${q}": ${ids.length} lines found the old way, ${idsB.length} the new`);
      const tau = kendallTauB(
        ids.map((id) => a.get(id)!),
        ids.map((id) => b.get(id)!),
      );
      const s = first(a) === first(b);
      if (s) same++;
      taus.push(tau);
      console.log(
        `${q.padEnd(20)}${String(ids.length).padStart(8)}${(s ? 'yes' : 'no').padStart(10)}${tau.toFixed(3).padStart(8)}`,
      );
    }
    const sortedTaus = [...taus].sort((x, y) => x - y);
    console.log(
      `${backend}: same first result for ${same}/${QUERIES.length} queries; tau-b min ${sortedTaus[0].toFixed(2)}, ` +
        `median ${sortedTaus[Math.floor(sortedTaus.length / 2)].toFixed(2)}, max ${sortedTaus[sortedTaus.length - 1].toFixed(2)}`,
    );
  } finally {
    await ds.destroy();
  }
}

async function dropDatabases(url: string) {
  for (const s of SUBGRAPHS) await dropDatabase({ type: 'mysql', url, database: `bench_relevance_${s}` });
}

async function main() {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'sqlite,mysql' },
      lines: { type: 'string', default: '5000' },
    },
  });
  const lines = Number(values.lines);
  if (!(Number.isInteger(lines) && lines >= 0))
    throw new Error(`--lines must be a whole number; got "${values.lines}"`);
  const mysqlUrl = process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306';
  for (const backend of values.backends.split(',')) {
    if (backend !== 'sqlite' && backend !== 'mysql') throw new Error(`unknown backend "${backend}"`);
    const work = mkdtempSync(join(tmpdir(), 'civic-bench-relevance-'));
    if (backend === 'mysql') await dropDatabases(mysqlUrl);
    try {
      await compare(backend, lines, work, mysqlUrl);
    } finally {
      if (backend === 'mysql') await dropDatabases(mysqlUrl);
      rmSync(work, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  console.error(`line-search-relevance failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
