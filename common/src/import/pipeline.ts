import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { settleSearchStatistics } from '../search';
import { FileRefused, type IssueSink } from './csv';
import { fileFacts, type FileFacts } from './file';
import {
  MAX_LISTED_ISSUES,
  type ImportIssue,
  type ImportOutcome,
  type ImportReport,
  type PartReport,
  type TableCounts,
} from './report';
import { ImportRunEntity, type ImportRun } from './runs';
import type { SourceAdjustment, WithProvenance } from '../provenance';
import { digest as digestOf } from './write';
import { writeData } from '../data-version';

/** Options a person gives `npm run import` (the kind's own options are in `params`). */
export interface ImportOptions {
  strict: boolean;
  dryRun: boolean;
  prune: boolean;
  /** Valid rows written per transaction. */
  batchSize: number;
  /** Kind-specific options, e.g. { municipality: '34012' }. */
  params: Readonly<Record<string, string | undefined>>;
  /** Called with progress figures while rows are read (a terminal shows them). */
  onProgress?: (p: ImportProgress) => void;
  /**
   * The name the report and every record cite for the file (default: as given). The seed cites its bundled
   * files relative to the repository, never by a machine's absolute path.
   */
  cite?: string;
}

export interface ImportProgress {
  part: string;
  rows: number;
  refused: number;
  rowsPerSecond: number;
}

/** One record as an importer's reader yields it: the line it starts on and what was read. */
export interface SourceRow<S> {
  line: number;
  data: S;
}

/** What an importer part sees of the run: the file, its provenance and where to report issues. */
export interface ImportContext extends IssueSink {
  /** The file as named on the command line (what records cite). */
  file: string;
  /** Its absolute path. */
  path: string;
  facts: FileFacts;
  /** The run's time, ISO 8601 UTC, stamped on every record it writes. */
  importedAt: string;
  options: ImportOptions;
  /**
   * The import provenance of a record read at `line` with content digest `digest`, and the values it stores
   * otherwise than the source wrote them (see ./adjust.ts). The row digest covers the adjustments too, so a
   * record whose cells changed only in what normalisation removes is still rewritten.
   */
  provenance(
    source: { dataset: string; url?: string | null; license?: string | null },
    line: number,
    record: string | null,
    digest: string,
    adjustments?: readonly SourceAdjustment[],
  ): WithProvenance;
  /** An issue for this file. */
  issue(line: number | null, column: string | null, value: unknown, reason: string): ImportIssue;
}

/** What a part's writer reports per table. */
export interface WriteContext {
  count(table: string, what: keyof TableCounts, n: number): void;
  /** Refuses rows the writer found invalid against what is stored (e.g. a key already used on another line). */
  refuse(issues: ImportIssue[]): void;
  ctx: ImportContext;
}

/**
 * One subgraph's share of an import kind: how it reads the file, validates a record into what it writes,
 * writes a batch (idempotently: a re-run writes nothing new), and finds what the file no longer has.
 */
export interface ImporterPart<S, R> {
  /** e.g. "tn-municipal-budget", or "ogp-commitments" for each subgraph the OGP export feeds. */
  importer: string;
  subgraph: string;
  /** What the import covers (checkpoints and missing rows are per importer, scope and file). */
  scope(ctx: ImportContext): string;
  /** Reads the file; unreadable records are refused through `ctx`, a file it cannot read throws FileRefused. */
  read(ctx: ImportContext): AsyncIterable<SourceRow<S>>;
  /** A record to what the writer writes, or null when refused (the issues given to ctx.refuse). */
  validate(row: SourceRow<S>, ctx: ImportContext): R | null | Promise<R | null>;
  /** The key a record is stored under: two records of one file with the same key are a duplicate. */
  key(r: R): string;
  /**
   * Checks a batch of valid records against what is stored, reading only, before the batch is written and
   * on a dry run too, so that --dry-run and --strict see what only the database can tell (a record naming a
   * row that does not exist). Returns the records that pass, in order; the others are refused through `ctx`.
   */
  check?(m: EntityManager, rows: R[], ctx: ImportContext): Promise<R[]>;
  /** Writes a batch in the caller's transaction, skipping rows stored unchanged. */
  write(m: EntityManager, rows: R[], w: WriteContext): Promise<void>;
  /** Stored records of this scope that came from another file (or none): what the file no longer has. */
  missing?(m: EntityManager, ctx: ImportContext, scope: string): Promise<{ count: number; sample: string[] }>;
  /** Deletes them (with --prune); returns the counts per table. */
  prune?(m: EntityManager, ctx: ImportContext, scope: string, w: WriteContext): Promise<void>;
  /**
   * For a kind whose "file" is several files (a data package: its descriptor and CSV resources): the facts of
   * the whole, its checksum covering every file, so a changed resource is a new version. Default fileFacts.
   */
  facts?(path: string): Promise<FileFacts>;
}

/** A part bound to the data source it writes through (the owning subgraph's). */
export interface BoundPart {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  part: ImporterPart<any, any>;
  ds: DataSource;
}

const now = () => new Date().toISOString();

/**
 * Runs one import kind over one file: each part in turn, through its own subgraph's data source.
 *
 * - Every record is validated; refused ones are reported with file, line, column, value and reason.
 * - Valid rows are written in batches, each batch and the run's checkpoint in one transaction: a killed run
 *   leaves whole batches only, and running it again resumes after the last committed one.
 * - `strict`: a first pass validates everything and nothing is written if any record is refused.
 * - `dryRun`: validates and reports, writes nothing (duplicate keys are found in memory then).
 * - After a complete run, the scope's records the file no longer has are reported, deleted with `prune`.
 */
export async function runImport(
  kind: string,
  fileArg: string,
  parts: BoundPart[],
  options: ImportOptions,
): Promise<ImportReport> {
  const started = Date.now();
  const startedAt = now();
  const path = resolve(fileArg);
  const file = options.cite ?? fileArg;
  const factsOf = parts[0]?.part.facts?.bind(parts[0].part) ?? fileFacts;
  const facts = await factsOf(path).catch((err: unknown) => {
    throw new Error(`cannot read ${fileArg}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  });
  const report: ImportReport = {
    kind,
    file,
    checksum: facts.checksum,
    bytes: facts.bytes,
    options: { strict: options.strict, dryRun: options.dryRun, prune: options.prune },
    startedAt,
    finishedAt: startedAt,
    seconds: 0,
    rowsPerSecond: 0,
    peakRssMiB: 0,
    outcome: 'loaded',
    error: null,
    ...noRowsYet(),
  };

  const finish = (outcome: ImportOutcome, error: string | null = null) => {
    report.outcome = outcome;
    report.error = error;
    report.finishedAt = now();
    report.seconds = (Date.now() - started) / 1000;
    report.rowsPerSecond = report.rows.read / Math.max(0.001, report.seconds);
    report.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    return report;
  };

  try {
    if (options.strict && !options.dryRun) {
      // First pass: validate everything, write nothing.
      const check = await runParts(file, path, facts, parts, { ...options, dryRun: true }, startedAt);
      if (check.rows.refused > 0 || check.fileRefused) {
        Object.assign(report, { ...check.report, parts: check.report.parts });
        return finish('refused');
      }
    }
    const run = await runParts(file, path, facts, parts, options, startedAt);
    Object.assign(report, run.report);
    if (run.fileRefused) return finish('refused');
    if (options.dryRun) return finish('validated');
    return finish(report.rows.refused > 0 ? 'loaded-with-refusals' : 'loaded');
  } catch (err) {
    return finish('failed', err instanceof Error ? err.message : String(err));
  }
}

/** The part of a report the parts fill in, empty. */
const noRowsYet = (): PartsResult['report'] => ({
  rows: { read: 0, valid: 0, refused: 0 },
  parts: [],
  refused: [],
  warnings: [],
  issuesNotListed: { refused: 0, warnings: 0 },
  refusedByReason: {},
});

interface PartsResult {
  report: Pick<
    ImportReport,
    'rows' | 'parts' | 'refused' | 'warnings' | 'issuesNotListed' | 'refusedByReason'
  >;
  rows: ImportReport['rows'];
  fileRefused: boolean;
}

/** Where the parts of one run record their issues: each listed once, however many parts report it. */
interface IssueLog {
  out: PartsResult['report'];
  /** Records an issue in a list; false when an earlier part already reported the same one. */
  record(list: 'refused' | 'warnings', i: ImportIssue): boolean;
}

function issueLog(out: PartsResult['report']): IssueLog {
  // Issues are reported once: the first part reads the whole file; later parts' identical issues (the same
  // line, column and reason, e.g. both parts of a kind refusing a row without an id) are not repeated.
  const seenIssue = new Set<string>();
  const issueKey = (i: ImportIssue) => `${i.line}\u0000${i.column}\u0000${i.reason}`;
  return {
    out,
    record(list, i) {
      if (seenIssue.has(`${list}\u0000${issueKey(i)}`)) return false;
      if (seenIssue.size < 4 * MAX_LISTED_ISSUES) seenIssue.add(`${list}\u0000${issueKey(i)}`);
      if (out[list].length < MAX_LISTED_ISSUES) out[list].push(i);
      else out.issuesNotListed[list] += 1;
      return true;
    },
  };
}

/** What one run of the file is, for every part: the file, its facts, the run's time and options. */
interface RunFacts {
  file: string;
  path: string;
  facts: FileFacts;
  importedAt: string;
  options: ImportOptions;
}

/** One part's run over the file: its counts and report, and the contexts it reads and writes through. */
interface PartRun {
  part: ImporterPart<unknown, unknown>;
  ds: DataSource;
  rows: { read: number; valid: number; refused: number };
  /** Rows the writer refused (counted apart: the next batch is validated while this one is written). */
  refusedByWriter: number;
  /** Rows the loop refused (by validation or as duplicate keys). */
  refusedInLoop: number;
  report: PartReport;
  ctx: ImportContext;
  w: WriteContext;
  scope: string;
}

/** The import context a part reads and validates through: refusals counted, issues logged once. */
function partContext(run: RunFacts, log: IssueLog, rows: PartRun['rows']): ImportContext {
  const { file, path, facts, importedAt, options } = run;
  return {
    file,
    path,
    facts,
    importedAt,
    options,
    refuse(issues) {
      if (!issues.length) return;
      rows.refused += 1;
      for (const i of issues)
        if (log.record('refused', i))
          log.out.refusedByReason[i.reason] = (log.out.refusedByReason[i.reason] ?? 0) + 1;
    },
    warn(issue) {
      log.record('warnings', issue);
    },
    provenance(source, line, rec, digest, adjustments = []) {
      const adjusted = adjustments.length ? JSON.stringify(adjustments) : null;
      return {
        sourceDataset: source.dataset,
        sourceUrl: source.url ?? null,
        sourceLicense: source.license ?? null,
        sourceRecord: rec,
        sourceFile: file,
        sourceChecksum: facts.checksum,
        sourceLine: line,
        importedAt,
        rowDigest: adjusted ? digestOf([digest, adjusted]) : digest,
        sourceAdjustments: adjusted,
      };
    },
    issue(line, column, value, reason) {
      const v = value === null || value === undefined ? null : String(value);
      return { file, line, column, value: v && v.length > 200 ? `${v.slice(0, 200)}…` : v, reason };
    },
  };
}

/** Sets up one part's run: its context, its report (added to the run's), and the writer's context. */
function startPart(bound: BoundPart, run: RunFacts, log: IssueLog): PartRun {
  const rows = { read: 0, valid: 0, refused: 0 };
  const ctx = partContext(run, log, rows);
  const scope = bound.part.scope(ctx);
  const report: PartReport = {
    importer: bound.part.importer,
    subgraph: bound.part.subgraph,
    scope,
    runId: null,
    resumedAfterLine: null,
    tables: {},
    missing: null,
    pruned: 0,
  };
  log.out.parts.push(report);
  const pr: PartRun = { ...bound, rows, refusedByWriter: 0, refusedInLoop: 0, report, ctx, scope, w: null! };
  pr.w = {
    ctx,
    count(table, what, n) {
      const t = (report.tables[table] ??= { inserted: 0, updated: 0, unchanged: 0, deleted: 0 });
      t[what] += n;
    },
    refuse: (issues) => {
      if (issues.length) pr.refusedByWriter += 1;
      ctx.refuse(issues);
    },
  };
  return pr;
}

/**
 * The checkpoint: records this run of the part, resuming after the last batch of an unfinished run of the
 * same importer, scope and file. Null (and nothing recorded) on a dry run.
 */
async function openRun(pr: PartRun, run: RunFacts): Promise<{ run: ImportRun | null; resumeAfter: number }> {
  if (run.options.dryRun) return { run: null, resumeAfter: 0 };
  const { part, scope } = pr;
  const repo = pr.ds.getRepository(ImportRunEntity);
  const previous = await repo.find({
    where: { importer: part.importer, scope, checksum: run.facts.checksum },
    order: { startedAt: 'DESC' },
    take: 1,
  });
  const last = previous[0];
  let resumeAfter = 0;
  if (last && (last.status === 'running' || last.status === 'failed') && last.committedLine > 0) {
    resumeAfter = last.committedLine;
    pr.report.resumedAfterLine = resumeAfter;
    await repo.update({ id: last.id }, { status: 'abandoned', finishedAt: now() });
  }
  const current: ImportRun = {
    id: randomUUID(),
    importer: part.importer,
    scope,
    file: run.file,
    checksum: run.facts.checksum,
    status: 'running',
    startedAt: now(),
    finishedAt: null,
    committedLine: resumeAfter,
    committedRows: 0,
    summary: null,
  };
  await repo.insert(current);
  pr.report.runId = current.id;
  return { run: current, resumeAfter };
}

/** Reports a part's progress to `options.onProgress`, at most every half second unless forced. */
function progressReporter(pr: PartRun, options: ImportOptions): (force?: boolean) => void {
  const t0 = Date.now();
  let lastProgress = 0;
  return (force = false) => {
    const t = Date.now();
    if (!options.onProgress || (!force && t - lastProgress < 500)) return;
    lastProgress = t;
    options.onProgress({
      part: `${pr.part.subgraph}/${pr.part.importer}`,
      rows: pr.rows.read,
      refused: pr.rows.refused,
      rowsPerSecond: pr.rows.read / Math.max(0.001, (t - t0) / 1000),
    });
  };
}

/**
 * Writes batches one at a time, in file order, each with the run's checkpoint in its own transaction. One
 * batch is written while the next one is read and validated (the database works on the other core).
 */
function batchWriter(pr: PartRun, run: ImportRun | null, resumeAfter: number, dryRun: boolean) {
  let inflight: Promise<void> | null = null;
  const write = async (rows: unknown[], lastLine: number) => {
    const refusedBefore = pr.refusedByWriter;
    // The batch, its checkpoint and the subgraph's data version (the response cache's key) commit together.
    await writeData(pr.ds, pr.part.subgraph, async (m) => {
      await pr.part.write(m, rows, pr.w);
      run!.committedLine = lastLine;
      run!.committedRows += rows.length;
      await m
        .getRepository(ImportRunEntity)
        .update({ id: run!.id }, { committedLine: lastLine, committedRows: run!.committedRows });
    });
    pr.rows.valid -= pr.refusedByWriter - refusedBefore;
  };
  return {
    async write(batch: { line: number; row: unknown }[]): Promise<void> {
      if (!batch.length) return;
      const lastLine = batch[batch.length - 1].line;
      if (dryRun || lastLine <= resumeAfter) return;
      if (inflight) await inflight;
      const p = write(
        batch.map((b) => b.row),
        lastLine,
      );
      // Handled here so a failure is not "unhandled" before the next await surfaces it.
      p.catch(() => undefined);
      inflight = p;
    },
    /** Waits for the batch being written; `settle` swallows its failure (one is already being reported). */
    async drain(settle = false): Promise<void> {
      if (inflight) await (settle ? inflight.catch(() => undefined) : inflight);
    },
  };
}

/**
 * Reads, validates and writes the file through one part: a record refused by validation or as a duplicate
 * key is counted, valid ones are batched. Returns the failure that stopped it, if any.
 */
async function readAndWrite(pr: PartRun, run: ImportRun | null, resumeAfter: number, options: ImportOptions) {
  const { part, ctx } = pr;
  const dryKeys = options.dryRun ? new Map<string, number>() : null;
  const writer = batchWriter(pr, run, resumeAfter, options.dryRun);
  const progress = progressReporter(pr, options);
  let batch: { line: number; row: unknown }[] = [];
  let batchKeys = new Map<string, number>();
  let failure: unknown = null;
  /** The batch as the part's check leaves it (skipped for the batches a resumed run has committed already). */
  const checked = async (b: typeof batch): Promise<typeof batch> => {
    if (!part.check || !b.length || (!options.dryRun && b[b.length - 1].line <= resumeAfter)) return b;
    // The check reads what the batch before it wrote: that batch is committed first.
    await writer.drain();
    const kept = new Set(
      await part.check(
        pr.ds.manager,
        b.map((x) => x.row),
        ctx,
      ),
    );
    const out = b.filter((x) => kept.has(x.row));
    pr.rows.valid -= b.length - out.length;
    pr.refusedInLoop += b.length - out.length;
    return out;
  };
  try {
    for await (const row of part.read(ctx)) {
      pr.rows.read += 1;
      const value = await part.validate(row, ctx);
      if (value === null) {
        pr.refusedInLoop += 1;
        progress();
        continue;
      }
      const key = part.key(value);
      const firstLine = batchKeys.get(key) ?? dryKeys?.get(key);
      if (firstLine !== undefined) {
        ctx.refuse([ctx.issue(row.line, null, key, `duplicate key: the same record as line ${firstLine}`)]);
        pr.refusedInLoop += 1;
        continue;
      }
      pr.rows.valid += 1;
      batchKeys.set(key, row.line);
      dryKeys?.set(key, row.line);
      batch.push({ line: row.line, row: value });
      if (batch.length >= options.batchSize) {
        await writer.write(await checked(batch));
        batch = [];
        batchKeys = new Map();
      }
      progress();
    }
    await writer.write(await checked(batch));
    await writer.drain();
  } catch (err) {
    failure = err;
    await writer.drain(true);
  }
  progress(true);
  // Records the reader itself refused (broken quoting, bad bytes) were read too.
  pr.rows.read += Math.max(0, pr.rows.refused - pr.refusedInLoop - pr.refusedByWriter);
  return failure;
}

/** After a complete run: what the file no longer has (deleted with --prune), the search statistics, the checkpoint. */
async function finishPart(pr: PartRun, run: ImportRun, options: ImportOptions): Promise<void> {
  const { part, ds, ctx, scope, report } = pr;
  if (part.missing) {
    report.missing = await part.missing(ds.manager, ctx, scope);
    if (options.prune && report.missing.count > 0 && part.prune) {
      await writeData(ds, part.subgraph, (m) => part.prune!(m, ctx, scope, pr.w));
      // Records removed (not rows of every table): what was missing and is no longer there.
      const left = await part.missing(ds.manager, ctx, scope);
      report.pruned = report.missing.count - left.count;
    }
  }
  await settleSearchStatistics(ds);
  // New statistics change the ranking of searches: answers cached before them are dropped too.
  await writeData(ds, part.subgraph, async () => undefined);
  await markRun(ds, run, 'completed', report, pr.rows.refused);
}

/** Runs each part in turn over the file; the first part's counts are the run's, later parts can only lower them. */
async function runParts(
  file: string,
  path: string,
  facts: FileFacts,
  parts: BoundPart[],
  options: ImportOptions,
  importedAt: string,
): Promise<PartsResult> {
  const log = issueLog(noRowsYet());
  const out = log.out;
  const facts_: RunFacts = { file, path, facts, importedAt, options };
  let fileRefused = false;

  for (const [index, bound] of parts.entries()) {
    const pr = startPart(bound, facts_, log);
    const { run, resumeAfter } = await openRun(pr, facts_);
    const failure = await readAndWrite(pr, run, resumeAfter, options);
    if (index === 0) out.rows = { ...pr.rows };
    else {
      // Later parts read the same records: a record refused by any part counts once.
      out.rows.refused = Math.max(out.rows.refused, pr.rows.refused);
      out.rows.valid = Math.min(out.rows.valid, pr.rows.valid);
    }

    if (failure instanceof FileRefused) {
      pr.ctx.refuse([{ file, ...failure.issue }]);
      out.rows = { read: 0, valid: 0, refused: 0 };
      fileRefused = true;
      if (run) await markRun(pr.ds, run, 'refused', pr.report, pr.rows.refused);
      break;
    }
    if (failure) {
      if (run) await markRun(pr.ds, run, 'failed', pr.report, pr.rows.refused).catch(() => undefined);
      throw failure;
    }
    if (!options.dryRun && run) await finishPart(pr, run, options);
  }
  return { report: out, rows: out.rows, fileRefused };
}

/** Ends a run: its status, when, and its summary (the tables' counts, records missing, rows refused). */
async function markRun(
  ds: DataSource,
  run: ImportRun,
  status: ImportRun['status'],
  part: PartReport,
  refused: number,
) {
  await ds.getRepository(ImportRunEntity).update(
    { id: run.id },
    {
      status,
      finishedAt: now(),
      summary: JSON.stringify({ tables: part.tables, missing: part.missing?.count ?? 0, refused }),
    },
  );
}
