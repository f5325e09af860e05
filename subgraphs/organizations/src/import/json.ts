import { FileRefused, type IssueSink } from '@civic/common/import/csv';
import { encodingProblem, type FileFacts } from '@civic/common/import/file';
import type { ImportIssue } from '@civic/common/import/report';
import { jsonLines, scanArray } from './json-scan';

/** One record of a JSON file: the line its value starts on, and the value. */
export interface JsonRecord {
  line: number;
  value: unknown;
}

export interface JsonLayout {
  /**
   * Where the records are when the file is an object rather than an array: the first of these keys whose
   * value is an array (`{ "communes": [...] }`). Other keys are skipped.
   */
  arrayKeys: readonly string[];
}

/** JSON Lines (one record per line) by the file's extension: .jsonl or .ndjson. */
export const isJsonLines = (path: string) => /\.(jsonl|ndjson)$/i.test(path);

const cut = (v: string) => (v.length > 200 ? `${v.slice(0, 200)}…` : v);

/**
 * JSON.parse's message for people, with the line of the error: V8 says "at position N" (an offset in
 * `text`), which becomes a line counted from `line`.
 */
function syntaxError(err: unknown, text: string, line: number): { line: number; reason: string } {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  let errorLine = line;
  if (at) {
    const pos = Math.min(Number(at[1]), text.length);
    for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) errorLine += 1;
  }
  const what = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
  return { line: errorLine, reason: `invalid JSON: ${what}` };
}

/** The path of the first string in `value` holding U+FFFD (a byte that was not UTF-8), or null. */
function replacementPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\uFFFD') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = replacementPath(v, `${path}[${i}]`);
      if (p !== null) return p;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = replacementPath(v, path ? `${path}.${k}` : k);
      if (p !== null) return p;
    }
  }
  return null;
}

/**
 * Reads the records of a JSON file, streaming in constant memory (one record at a time): the elements of a
 * top-level array, or of the array under one of `layout.arrayKeys` of a top-level object; for a .jsonl or
 * .ndjson file, one record per non-blank line. Each record comes with the line its value starts on.
 *
 * A record that is not valid JSON by itself (its brackets balance, but a comma is missing or a key is not
 * quoted) is refused with the line of the error, and the others are read. A file whose structure is broken
 * (it ends inside a record or a string, a string runs past the end of its line, text after the end, no
 * records array) is refused as a whole, with the line: a first pass checks the structure before any record
 * is given out, so a broken file never loads half. Bytes that are not UTF-8 refuse the record holding them.
 */
export async function* readJsonRecords(
  path: string,
  file: string,
  facts: FileFacts,
  layout: JsonLayout,
  sink: IssueSink,
): AsyncGenerator<JsonRecord> {
  if (facts.unreadable)
    throw new FileRefused({ line: null, column: null, value: null, reason: facts.unreadable });
  if (facts.bytes === 0)
    throw new FileRefused({ line: null, column: null, value: null, reason: 'the file is empty' });
  const issue = (line: number, column: string | null, value: string | null, reason: string): ImportIssue => ({
    file,
    line,
    column,
    value: value === null ? null : cut(value),
    reason,
  });

  const source = isJsonLines(path) ? jsonLines(path) : null;
  if (!source) for await (const r of scanArray(path, layout, false)) void r; // structure check only
  let records = 0;
  for await (const raw of source ?? scanArray(path, layout, true)) {
    records += 1;
    let value: unknown;
    try {
      value = JSON.parse(raw.text);
    } catch (err) {
      const e = syntaxError(err, raw.text, raw.line);
      const offending = raw.text.split('\n')[e.line - raw.line] ?? raw.text;
      sink.refuse([issue(e.line, null, offending.trim(), e.reason)]);
      continue;
    }
    const bad = facts.firstNonUtf8Line !== null ? replacementPath(value, '') : null;
    if (bad !== null) {
      const v = bad
        .split(/[.[]/)
        .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k.replace(']', '')], value);
      sink.refuse([issue(raw.line, bad || null, String(v), encodingProblem(String(v), facts)!)]);
      continue;
    }
    yield { line: raw.line, value };
  }
  if (records === 0)
    throw new FileRefused({ line: null, column: null, value: null, reason: 'the file has no records' });
}
