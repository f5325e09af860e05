/** What an import found wrong with (or worth saying about) one place in a file. */
export interface ImportIssue {
  /** The file as named to the importer. */
  file: string;
  /** 1-based line where the record starts (1 is a CSV file's header); null for the file as a whole. */
  line: number | null;
  /** The column (or JSON path) at fault, null when the whole record or file is. */
  column: string | null;
  /** The offending value as read (cut to 200 characters), null when there is none. */
  value: string | null;
  reason: string;
}

/** What one importer part did to one table. */
export interface TableCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

/** One importer part's outcome (a kind can write to several subgraphs, each through its own part). */
export interface PartReport {
  importer: string;
  subgraph: string;
  scope: string;
  runId: string | null;
  /** The line a resumed run started writing after (an earlier run committed everything up to it). */
  resumedAfterLine: number | null;
  tables: Record<string, TableCounts>;
  /** Records of this importer's scope that the file no longer has (removed only with --prune). */
  missing: { count: number; sample: string[] } | null;
  pruned: number;
}

export type ImportOutcome =
  /** Every row valid and loaded. */
  | 'loaded'
  /** The valid rows loaded, the refused ones reported. */
  | 'loaded-with-refusals'
  /** Nothing loaded: the file was unreadable as a whole, or --strict and some row was refused. */
  | 'refused'
  /** Dry run: validated, nothing written. */
  | 'validated'
  /** An error stopped the run; committed batches stay and a new run resumes after them. */
  | 'failed';

export interface ImportReport {
  kind: string;
  file: string;
  checksum: string;
  bytes: number;
  options: { strict: boolean; dryRun: boolean; prune: boolean };
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** Records read per second over the whole run. */
  rowsPerSecond: number;
  /** The importing process's peak resident memory so far, MiB. */
  peakRssMiB: number;
  outcome: ImportOutcome;
  /** Why a run failed (a message for people, no stack). */
  error: string | null;
  rows: { read: number; valid: number; refused: number };
  parts: PartReport[];
  /** Refused rows' issues, at most {@link MAX_LISTED_ISSUES} (`issuesNotListed` counts the rest). */
  refused: ImportIssue[];
  warnings: ImportIssue[];
  issuesNotListed: { refused: number; warnings: number };
  /** How many issues of each reason, for a quick look at what is wrong with a file. */
  refusedByReason: Record<string, number>;
}

/** The most issues of each list a report holds (the counts go on): memory stays bounded on any file. */
export const MAX_LISTED_ISSUES = 10_000;

/** The exit status of `npm run import` for an outcome (documented in the README). */
export function exitStatus(outcome: ImportOutcome): number {
  switch (outcome) {
    case 'loaded':
    case 'validated':
      return 0;
    case 'failed':
      return 1;
    case 'loaded-with-refusals':
      return 2;
    case 'refused':
      return 3;
  }
}

const shown = (v: string | null) => (v === null ? '' : ` = ${JSON.stringify(v)}`);

/** One issue as a line for people: `file:line column = "value": reason`. */
export function formatIssue(i: ImportIssue): string {
  const where = `${i.file}${i.line === null ? '' : `:${i.line}`}`;
  return `${where}${i.column ? ` ${i.column}` : ''}${shown(i.value)}: ${i.reason}`;
}

/** The readable summary printed at the end of an import. */
export function formatImportReport(r: ImportReport, maxListed = 50): string {
  const out: string[] = [];
  const verb = r.options.dryRun ? 'validated (dry run, nothing written)' : r.outcome;
  out.push(
    `${r.kind} ${r.file}: ${verb} in ${r.seconds.toFixed(1)} s (${Math.round(r.rowsPerSecond)} rows/s, ` +
      `peak memory ${r.peakRssMiB} MiB) — ${r.rows.read} rows read, ` +
      `${r.rows.valid} valid, ${r.rows.refused} refused, ${r.warnings.length + r.issuesNotListed.warnings} warnings`,
  );
  out.push(`  sha256 ${r.checksum} (${r.bytes} bytes)`);
  for (const p of r.parts) {
    const tables = Object.entries(p.tables)
      .map(
        ([t, c]) => `${t} +${c.inserted} ~${c.updated} =${c.unchanged}${c.deleted ? ` -${c.deleted}` : ''}`,
      )
      .join(', ');
    out.push(
      `  ${p.subgraph}/${p.importer}${p.scope ? ` [${p.scope}]` : ''}: ${tables || 'nothing written'}`,
    );
    if (p.resumedAfterLine !== null)
      out.push(`    resumed an interrupted run: lines up to ${p.resumedAfterLine} were already committed`);
    if (p.missing?.count)
      out.push(
        `    ${p.missing.count} records no longer in this file ${p.pruned ? `(${p.pruned} removed by --prune)` : '(kept; --prune removes them)'}: ` +
          p.missing.sample.join(', ') +
          (p.missing.count > p.missing.sample.length ? ', …' : ''),
      );
  }
  out.push('  (+ inserted, ~ updated, = unchanged, - deleted)');
  if (r.error) out.push(`  error: ${r.error}`);
  const refused = r.refused.slice(0, maxListed);
  if (refused.length) out.push('Refused:');
  for (const i of refused) out.push(`  ${formatIssue(i)}`);
  const moreRefused = r.refused.length - refused.length + r.issuesNotListed.refused;
  if (moreRefused > 0) out.push(`  … and ${moreRefused} more (see --report)`);
  const warnings = r.warnings.slice(0, Math.min(20, maxListed));
  if (warnings.length) out.push('Warnings:');
  for (const i of warnings) out.push(`  ${formatIssue(i)}`);
  const moreWarnings = r.warnings.length - warnings.length + r.issuesNotListed.warnings;
  if (moreWarnings > 0) out.push(`  … and ${moreWarnings} more (see --report)`);
  return out.join('\n');
}
