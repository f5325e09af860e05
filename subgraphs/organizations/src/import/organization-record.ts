import { SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportContext } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import type { Warn } from './names';

/*
 * One record of the `organizations` import kind, as its field readers see it: values by canonical column
 * name, and where every problem or correction is reported (under the record's line and the column it was
 * read from).
 */

/** One source record, by canonical column name; a column the source does not have is absent. */
export interface OrganizationSource {
  values: Map<string, unknown>;
  /** The column or JSON path each value was read from, for issues. */
  labels: Map<string, string>;
}

/**
 * A reader for one record, built once per record. Problems are collected in `issues`, in the order they are
 * found (the order reports and tests show); corrections are warned at once.
 */
export interface RecordReader {
  /** The record's problems so far, in the order found; the record is refused if there is any. */
  readonly issues: ImportIssue[];
  /** The column or JSON path a canonical column was read from. */
  label(name: string): string;
  /** Records a problem with a column (null: with the record as a whole) and the value found. */
  bad(name: string | null, value: unknown, reason: string): void;
  /** Warns of a correction made to a column (null: to the record as a whole). */
  warn: Warn;
  /** The record's cells stored otherwise than written, by canonical column name (see `label`). */
  readonly adjustments: SourceAdjustments;
  /** True when the source has the column, even empty. */
  has(name: string): boolean;
  /** A value as it was read (a JSON list or object stays one); undefined when absent. */
  raw(name: string): unknown;
  /**
   * A value as text ('' when empty or null); numbers are read as written. A list or an object is a problem
   * (recorded on every call) and reads as ''.
   */
  text(name: string): string;
}

/** The reader of one record at a line of the file. */
export function recordReader(src: OrganizationSource, line: number, ctx: ImportContext): RecordReader {
  const issues: ImportIssue[] = [];
  const label = (name: string) => src.labels.get(name) ?? name;
  const bad = (name: string | null, value: unknown, reason: string) => {
    issues.push(ctx.issue(line, name === null ? null : label(name), value, reason));
  };
  const warn = (name: string | null, message: string) =>
    ctx.warn(ctx.issue(line, name === null ? null : label(name), null, message));
  const text = (name: string): string => {
    const v = src.values.get(name);
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    bad(name, JSON.stringify(v), `expected text, found ${Array.isArray(v) ? 'a list' : 'an object'}`);
    return '';
  };
  return {
    issues,
    label,
    bad,
    warn,
    adjustments: new SourceAdjustments(),
    has: (name) => src.values.has(name),
    raw: (name) => src.values.get(name),
    text,
  };
}
