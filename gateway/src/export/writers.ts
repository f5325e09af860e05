import { Readable, Transform } from 'node:stream';
import { stringify, type Options } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { flattenNode, LIST_SEPARATOR, type Column } from './columns';

/** The two export formats, by file extension. */
export const FORMATS = {
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
} as const;
export type ExportFormat = keyof typeof FORMATS;

/**
 * A CSV writer (csv-stringify) as RFC 4180 has it: a header row, CRLF between records, and a field quoted
 * when it holds a comma, a double quote (doubled) or a line break. UTF-8, text untouched (Arabic stays
 * Arabic); `bom` adds a byte order mark, which Excel needs to read UTF-8 as such.
 *
 * `quote_record_delimiter` is set on purpose: with a CRLF record delimiter csv-stringify would otherwise
 * quote only fields holding CRLF itself, and leave a bare LF (common in the commitments' descriptions)
 * unquoted, which splits the record for any reader.
 */
export function csvWriter(opts: { bom?: boolean } = {}): Transform {
  return stringify(csvOptions(opts));
}

function csvOptions(opts: { bom?: boolean }): Options {
  return { bom: opts.bom ?? false, record_delimiter: 'windows', quote_record_delimiter: true, eof: true };
}

/** What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A number as GraphQL writes an Int or a Float, or as an exact decimal string (`-12.500`). */
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Neutralises spreadsheet formula injection in one CSV cell: text starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return is prefixed with a single quote, so that Excel, LibreOffice or Google Sheets show it as
 * text instead of running it (`=HYPERLINK(...)`, `@SUM(...)`). A cell of a numeric column (Int, Float, an
 * exact decimal: see {@link Column.numeric}) is written as it is when every value in it is a number, so a
 * negative amount `-12.500` stays a number; decided by the column's type, never by what a text looks like
 * (a title `-12` is text, and is quoted).
 */
export function neutraliseFormula(cell: string, numeric = false): string {
  if (!FORMULA_START.test(cell)) return cell;
  if (numeric && cell.split(LIST_SEPARATOR).every((v) => v === '' || NUMBER.test(v))) return cell;
  return `'${cell}`;
}

/** One node as one CSV row, formula injection neutralised (see {@link neutraliseFormula}). */
export function csvRow(node: unknown, columns: readonly Column[]): string[] {
  return flattenNode(node, columns).map((cell, i) => neutraliseFormula(cell, columns[i].numeric));
}

/** The rows of a CSV export: the header, then one row per node. */
export async function* csvRows(
  columns: readonly Column[],
  nodes: AsyncIterable<unknown>,
): AsyncGenerator<string[]> {
  yield columns.map((c) => c.name);
  for await (const node of nodes) yield csvRow(node, columns);
}

/**
 * The size in bytes a whole export would have, estimated before anything is sent from its first page: the
 * header (and byte order mark), then the first page's average row times `totalCount`. An estimate: rows
 * differ, so an export estimated under the byte limit can still reach it while streaming.
 */
export function estimateBytes(
  format: ExportFormat,
  columns: readonly Column[],
  firstPage: readonly unknown[],
  totalCount: number,
  opts: { bom?: boolean } = {},
): number {
  if (!firstPage.length) return 0;
  let head: number;
  let page: number;
  if (format === 'json') {
    head = 4; // "[", "\n]\n"
    page = firstPage.reduce<number>((sum, node) => sum + Buffer.byteLength(JSON.stringify(node)) + 2, 0);
  } else {
    const csv = (rows: string[][]) => Buffer.byteLength(stringifySync(rows, csvOptions(opts)));
    head = csv([columns.map((c) => c.name)]);
    page = csv(firstPage.map((node) => csvRow(node, columns))) - (opts.bom ? 3 : 0);
  }
  return Math.ceil(head + (page / firstPage.length) * totalCount);
}

/**
 * Passes an export's bytes through until `maxBytes` would be passed: then it fails with `error()` instead of
 * writing the chunk (a whole record or JSON line) that would cross it, so the client never gets more.
 */
export function byteLimit(maxBytes: number, error: (bytes: number) => Error): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer | string, _encoding, callback) {
      const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (bytes + size > maxBytes) {
        callback(error(bytes + size));
        return;
      }
      bytes += size;
      callback(null, chunk);
    },
  });
}

/** A JSON export: one array of the nodes exactly as GraphQL returned them, one node per line. */
export async function* jsonChunks(nodes: AsyncIterable<unknown>): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const node of nodes) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(node)}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}

/** The bytes of an export in one format, as a stream to pipe into a response or a file. */
export function exportStream(
  format: ExportFormat,
  columns: readonly Column[],
  nodes: AsyncIterable<unknown>,
  opts: { bom?: boolean } = {},
): Readable {
  if (format === 'json') return Readable.from(jsonChunks(nodes));
  const writer = csvWriter(opts);
  const rows = Readable.from(csvRows(columns, nodes));
  // Errors flow downstream; a writer closed early (the client went away) stops the paging upstream.
  rows.on('error', (err) => writer.destroy(err));
  writer.on('close', () => rows.destroy());
  return rows.pipe(writer);
}
