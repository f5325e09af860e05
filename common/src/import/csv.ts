import { createReadStream } from 'node:fs';
import { parse as parseSync } from 'csv-parse/sync';
import { encodingProblem, type FileFacts } from './file';
import type { ImportIssue } from './report';

/** A column an importer reads: its name, the other headers it goes by, and whether a file must have it. */
export interface CsvColumn {
  name: string;
  aliases?: readonly string[];
  required?: boolean;
}

export interface CsvLayout {
  columns: readonly CsvColumn[];
  /**
   * Accepts a header that is none of `columns` under a name of the importer's (e.g. a year column "2016"):
   * return the name to file its values under, or null for an unknown column (ignored, with a warning).
   */
  extra?: (header: string) => string | null;
  delimiter?: string;
}

/** One CSV record: the line it starts on and its values by column name ('' for an empty or absent cell). */
export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

/** Where a reader reports what it cannot read: a refused record, a warning, or a file it cannot read at all. */
export interface IssueSink {
  /** Refuses one record (its issues together count as one refused row). */
  refuse(issues: ImportIssue[]): void;
  warn(issue: ImportIssue): void;
}

/** The file cannot be imported at all (nothing is loaded): empty, no header, a required column missing... */
export class FileRefused extends Error {
  constructor(readonly issue: Omit<ImportIssue, 'file'>) {
    super(issue.reason);
  }
}

/** Header names compare without case, accents' compatibility forms, spaces or punctuation. */
export const normalizeHeader = (h: string) =>
  h
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');

/** Records of the same shape parsed per call to csv-parse (one call per record only where one is broken). */
const RECORDS_PER_PARSE = 500;
/** A quoted value longer than this many lines is taken as a quote that is never closed. */
const MAX_RECORD_LINES = 10_000;
const cut = (v: string) => (v.length > 200 ? `${v.slice(0, 200)}…` : v);

interface RawRecord {
  line: number;
  /** The record's bytes (its lines joined by \n, without the final newline). */
  buf: Buffer;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const CR = 0x0d;
const NL = Buffer.from('\n');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Whether a line leaves a quoted value open, given whether one was open at its start (byte scan). */
function endsInQuotes(line: Buffer, quoted: boolean, delimiter: number): boolean {
  let q = quoted;
  for (let i = line.indexOf(QUOTE); i !== -1; i = line.indexOf(QUOTE, i + 1)) {
    if (q) {
      if (line[i + 1] === QUOTE) i += 1;
      else q = false;
    } else if (i === 0 || line[i - 1] === delimiter) q = true;
    // A quote inside an unquoted value is left to csv-parse, which refuses the record.
  }
  return q;
}

/**
 * Splits a CSV file into records, streaming bytes, with the line each starts on: a newline inside a quoted
 * value continues the record. A quote that is never closed is reported on the line it opens and the lines
 * after it are read again as records, so one bad cell never swallows the rest of the file. Yields the
 * records of each chunk read together.
 */
async function* rawRecords(
  path: string,
  delimiter: number,
  onUnclosed: (line: number, lines: number) => void,
): AsyncGenerator<RawRecord[]> {
  let carry: Buffer | null = null;
  let lineNo = 0;
  let first = true;
  // The record being accumulated, as its lines, and the quote state at the end of its last line.
  let acc: Buffer[] = [];
  let accLine = 0;
  let inQuotes = false;
  let out: RawRecord[] = [];

  function feed(line: number, buf: Buffer): void {
    if (!acc.length) {
      if (buf.length === 0 || (buf.length === 1 && buf[0] === CR)) return;
      accLine = line;
    }
    acc.push(buf);
    inQuotes = endsInQuotes(buf, inQuotes, delimiter);
    if (!inQuotes) {
      // The record's own line end goes (a CRLF file's \r): left on the last record of a batch, csv-parse would
      // read it into the last value. Line ends inside a quoted value stay.
      const buf = acc.length === 1 ? acc[0] : joinLines(acc);
      out.push({ line: accLine, buf: buf[buf.length - 1] === CR ? buf.subarray(0, -1) : buf });
      acc = [];
    } else if (acc.length > MAX_RECORD_LINES) giveUp();
  }

  /** The open quote never closed: report its record, then read the lines after its first line again. */
  function giveUp(): void {
    onUnclosed(accLine, acc.length);
    const again = acc.slice(1);
    const from = accLine + 1;
    acc = [];
    inQuotes = false;
    again.forEach((b, i) => feed(from + i, b));
  }

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first) {
      if (data.length < 3 && data.subarray(0, data.length).equals(BOM.subarray(0, data.length))) {
        carry = data;
        continue;
      }
      if (data.subarray(0, 3).equals(BOM)) data = data.subarray(3);
      first = false;
    }
    let start = 0;
    for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, start)) {
      feed(++lineNo, data.subarray(start, i));
      start = i + 1;
    }
    carry = start < data.length ? Buffer.from(data.subarray(start)) : null;
    if (out.length) {
      yield out;
      out = [];
    }
  }
  if (carry?.length) feed(++lineNo, first && carry.subarray(0, 3).equals(BOM) ? carry.subarray(3) : carry);
  while (acc.length && inQuotes) giveUp();
  if (out.length) yield out;
}

function joinLines(lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    if (i) parts.push(NL);
    parts.push(l);
  });
  return Buffer.concat(parts);
}

/** Why csv-parse refused a record, for people. */
function quotingReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'CSV_INVALID_CLOSING_QUOTE')
    return 'broken quoting: a quoted value is followed by other characters before the next comma (a quote inside a value must be doubled: "")';
  if (code === 'INVALID_OPENING_QUOTE')
    return 'broken quoting: a quote in the middle of an unquoted value (quote the whole value and double its quotes)';
  if (code === 'CSV_QUOTE_NOT_CLOSED') return 'broken quoting: a quote is opened and never closed';
  return `unreadable CSV record (${code ?? 'parse error'})`;
}

/** An issue of this file, its value cut to 200 characters. */
type IssueOf = (
  line: number | null,
  column: string | null,
  value: string | null,
  reason: string,
) => ImportIssue;

const issueMaker =
  (file: string): IssueOf =>
  (line, column, value, reason) => ({
    file,
    line,
    column,
    value: value === null ? null : cut(value),
    reason,
  });

/** The columns a file's header names, in its order (null: a column not read), and how many it has. */
interface CsvHeader {
  names: (string | null)[];
  width: number;
}

/**
 * Header names to column names: a header written exactly as a column's name (or alias) wins over the loose
 * match, since "_Specificity" and "Specificity" (two columns of the OGP export) normalize alike.
 */
function headerNames(layout: CsvLayout): (header: string) => string | null {
  const byNorm = new Map<string, string>();
  const exact = new Map<string, string>();
  for (const c of layout.columns)
    for (const h of [c.name, ...(c.aliases ?? [])]) {
      byNorm.set(normalizeHeader(h), c.name);
      exact.set(h, c.name);
    }
  return (h) => exact.get(h.trim()) ?? byNorm.get(normalizeHeader(h)) ?? layout.extra?.(h.trim()) ?? null;
}

/** Parses one record's bytes into its cells; throws csv-parse's error when its quoting is broken. */
const parseRecord = (buf: Buffer, delimiter: string): string[] =>
  (parseSync(buf, { delimiter, relax_column_count: true }) as string[][])[0] ?? [];

/**
 * Reads the header record: which column each cell names. A column named twice is read once (a warning), an
 * unknown one is ignored (one warning for all); a header that cannot be parsed or lacks a required column
 * refuses the file.
 */
function readHeader(
  rec: RawRecord,
  layout: CsvLayout,
  delimiter: string,
  issue: IssueOf,
  sink: IssueSink,
): CsvHeader {
  let cells: string[];
  try {
    cells = parseRecord(rec.buf, delimiter);
  } catch (err) {
    throw new FileRefused({
      line: rec.line,
      column: null,
      value: cut(rec.buf.toString('utf8')),
      reason: `header: ${quotingReason(err)}`,
    });
  }
  const nameOf = headerNames(layout);
  const seen = new Set<string>();
  const unknown: string[] = [];
  const names = cells.map((h) => {
    const name = nameOf(h);
    if (name === null) {
      if (h.trim()) unknown.push(h.trim());
      return null;
    }
    if (seen.has(name)) {
      sink.warn(issue(rec.line, h, null, `column "${name}" appears twice: the first one is read`));
      return null;
    }
    seen.add(name);
    return name;
  });
  refuseMissingColumns(rec.line, layout, seen, cells);
  if (unknown.length)
    sink.warn(
      issue(rec.line, unknown.join(', '), null, `unknown column${unknown.length > 1 ? 's' : ''} ignored`),
    );
  return { names, width: cells.length };
}

/** Refuses the file when its header (`cells`, naming the columns `seen`) lacks a required column. */
function refuseMissingColumns(line: number, layout: CsvLayout, seen: ReadonlySet<string>, cells: string[]) {
  const missing = layout.columns.filter((c) => c.required && !seen.has(c.name)).map((c) => c.name);
  if (missing.length)
    throw new FileRefused({
      line,
      column: missing.join(', '),
      value: null,
      reason: `missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (the header has: ${cells.map((c) => c.trim()).join(', ')})`,
    });
}

/**
 * A record's values by column name, or null: for a blank record, and for one refused (through `sink`) for
 * more values than the header has columns or a value that is not text in the file's encoding.
 */
function toRecord(
  rec: RawRecord,
  cells: string[],
  header: CsvHeader,
  facts: FileFacts,
  issue: IssueOf,
  sink: IssueSink,
): CsvRecord | null {
  if (cells.every((c) => c.trim() === '')) return null;
  const problems: ImportIssue[] = [];
  if (cells.length > header.width && cells.slice(header.width).some((c) => c.trim() !== ''))
    problems.push(
      issue(
        rec.line,
        null,
        null,
        `${cells.length} values but the header has ${header.width} columns (an unquoted comma in a value?)`,
      ),
    );
  const values: Record<string, string> = {};
  header.names.forEach((name, i) => {
    if (name === null) return;
    const v = cells[i] ?? '';
    const bad = encodingProblem(v, facts);
    if (bad) problems.push(issue(rec.line, name, v, bad));
    values[name] = v;
  });
  if (problems.length) {
    sink.refuse(problems);
    return null;
  }
  return { line: rec.line, values };
}

/**
 * The cells of a batch of records, parsed in one call to csv-parse; null when that fails (a broken record
 * among them), and the records are then parsed one by one ({@link parseOne}).
 */
function parseBatch(batch: readonly RawRecord[], delimiter: string): string[][] | null {
  try {
    const parsed = parseSync(joinLines(batch.map((r) => r.buf)), { delimiter, relax_column_count: true });
    return parsed.length === batch.length ? parsed : null;
  } catch {
    return null;
  }
}

/** One record's cells, or null when its quoting is broken (the record refused through `sink`). */
function parseOne(rec: RawRecord, delimiter: string, issue: IssueOf, sink: IssueSink): string[] | null {
  try {
    return parseRecord(rec.buf, delimiter);
  } catch (err) {
    sink.refuse([issue(rec.line, null, rec.buf.toString('utf8'), quotingReason(err))]);
    return null;
  }
}

/** Refuses a file that cannot be read, or is empty, before anything is read from it. */
function refuseUnreadable(facts: FileFacts): void {
  if (facts.unreadable)
    throw new FileRefused({ line: null, column: null, value: null, reason: facts.unreadable });
  if (facts.bytes === 0)
    throw new FileRefused({ line: null, column: null, value: null, reason: 'the file is empty' });
}

const refuseFile = (reason: string) => new FileRefused({ line: null, column: null, value: null, reason });

/**
 * Reads a CSV file's records by the importer's column layout, streaming in constant memory. The header
 * decides which column is which (any order; unknown columns are ignored with one warning); a file without
 * a required column, with no header or with no rows is refused as a whole. A record that cannot be read
 * (broken quoting, more values than the header has columns, bytes that are not UTF-8) is refused with its
 * line and the reader goes on with the next one.
 */
export async function* readCsv(
  path: string,
  file: string,
  facts: FileFacts,
  layout: CsvLayout,
  sink: IssueSink,
): AsyncGenerator<CsvRecord> {
  const delimiter = layout.delimiter ?? ',';
  refuseUnreadable(facts);
  const issue = issueMaker(file);
  let header: CsvHeader | null = null;
  const batch: RawRecord[] = [];
  function* flush(h: CsvHeader): Generator<CsvRecord> {
    const parsed = parseBatch(batch, delimiter);
    for (let i = 0; i < batch.length; i++) {
      const cells = parsed?.[i] ?? parseOne(batch[i], delimiter, issue, sink);
      const r = cells ? toRecord(batch[i], cells, h, facts, issue, sink) : null;
      if (r) yield r;
    }
    batch.length = 0;
  }
  const unclosed = (line: number, lines: number) =>
    sink.refuse([
      issue(
        line,
        null,
        null,
        `broken quoting: a quote opened on this line is never closed (${lines} lines read as one value); the lines after it are read again as records`,
      ),
    ]);

  let records = 0;
  if (Buffer.byteLength(delimiter) !== 1)
    throw new Error(`CSV delimiter must be one byte; got "${delimiter}"`);
  for await (const recs of rawRecords(path, Buffer.from(delimiter)[0], unclosed)) {
    for (const rec of recs) {
      if (!header) {
        header = readHeader(rec, layout, delimiter, issue, sink);
        continue;
      }
      records += 1;
      batch.push(rec);
      if (batch.length >= RECORDS_PER_PARSE) yield* flush(header);
    }
  }
  if (!header) throw refuseFile('the file has no header (only blank lines)');
  yield* flush(header);
  if (records === 0) throw refuseFile('the file has a header but no rows');
}
