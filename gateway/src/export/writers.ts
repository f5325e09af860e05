import { Readable, type Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import { flattenNode, type Column } from './columns';

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
  return stringify({
    bom: opts.bom ?? false,
    record_delimiter: 'windows',
    quote_record_delimiter: true,
    eof: true,
  });
}

/** The rows of a CSV export: the header, then one row per node. */
export async function* csvRows(
  columns: readonly Column[],
  nodes: AsyncIterable<unknown>,
): AsyncGenerator<string[]> {
  yield columns.map((c) => c.name);
  for await (const node of nodes) yield flattenNode(node, columns);
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
