import { closeSync, openSync, readSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/**
 * The header of a CSV file, read synchronously from its first 64 KiB (an importer's scope is decided before
 * its rows are streamed). Null when the file cannot be read or has no complete first line: the streaming
 * reader then refuses it with the reason.
 */
export function readCsvHeader(path: string, delimiter = ','): string[] | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    const end = text.indexOf('\n');
    const first = (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
    if (!first.trim()) return null;
    const rows = parse(first, { delimiter, relax_column_count: true }) as string[][];
    return (rows[0] ?? []).map((h) => h.trim());
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
