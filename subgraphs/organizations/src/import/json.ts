import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { FileRefused, type IssueSink } from '../../../../common/src/import/csv';
import { encodingProblem, type FileFacts } from '../../../../common/src/import/file';
import type { ImportIssue } from '../../../../common/src/import/report';

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

interface RawRecord {
  line: number;
  text: string;
}

async function* chunks(path: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 18 }) as AsyncIterable<Buffer>) {
    let text = decoder.write(buf);
    if (first && text) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** JSON Lines: each non-blank line is one record. */
async function* jsonLines(path: string): AsyncGenerator<RawRecord> {
  let pending = '';
  let line = 0;
  for await (const chunk of chunks(path)) {
    pending += chunk;
    let start = 0;
    for (let i = pending.indexOf('\n'); i !== -1; i = pending.indexOf('\n', start)) {
      line += 1;
      const text = pending.slice(start, i);
      start = i + 1;
      if (text.trim()) yield { line, text };
    }
    pending = pending.slice(start);
  }
  if (pending.trim()) yield { line: line + 1, text: pending };
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

type Mode =
  | 'top' // before the top-level value
  | 'key' // in the top-level object, before a key (or its end)
  | 'colon' // after a key
  | 'value' // after the colon
  | 'skip' // inside a value of the top-level object that is not the records
  | 'after-value' // after a value of the top-level object: , or }
  | 'first' // just inside the records array: a record or ]
  | 'element' // after a comma in the records array: a record
  | 'record' // inside a record
  | 'after-record' // after a record: , or ]
  | 'end'; // after the top-level value: whitespace only

/**
 * The structure of a JSON file, one character at a time outside strings: finds the records array (the top
 * level, or under one of the layout's keys), and the text and first line of each of its elements. The
 * elements themselves are parsed by JSON.parse; this only needs strings and brackets to find where one ends.
 * Throws FileRefused, with the line, where the structure is broken. With `capture` false it only checks.
 */
async function* scanArray(path: string, layout: JsonLayout, capture: boolean): AsyncGenerator<RawRecord> {
  const refuse = (line: number, reason: string): never => {
    throw new FileRefused({ line, column: null, value: null, reason: `invalid JSON: ${reason}` });
  };
  const expected = layout.arrayKeys.map((k) => `"${k}"`).join(' or ');
  const closes = (open: { c: number; line: number }, c: number, line: number) => {
    if ((open.c === OPEN_BRACE) !== (c === CLOSE_BRACE))
      refuse(
        line,
        `"${String.fromCharCode(c)}" closes the "${String.fromCharCode(open.c)}" opened on line ${open.line}`,
      );
  };
  let mode = 'top' as Mode;
  let line = 1;
  /** Open brackets inside a record or a skipped value, with the line each opened on. */
  const stack: { c: number; line: number }[] = [];
  let inString = false;
  let pendingEscape = false;
  let stringLine = 0;
  let key = '';
  let keyParts: string[] | null = null;
  let topObject = false;
  let foundRecords = false;
  let recordLine = 0;
  let primitive = false;
  let parts: string[] = [];
  /** Where the record being read starts in the current chunk (0 when it began in an earlier one), or -1. */
  let start = -1;

  for await (const chunk of chunks(path)) {
    if (start !== -1) start = 0;
    const n = chunk.length;
    let done: RawRecord | null = null;
    const finish = (end: number) => {
      if (capture) {
        parts.push(chunk.slice(start, end));
        done = { line: recordLine, text: parts.join('') };
      }
      parts = [];
      start = -1;
      mode = 'after-record';
      primitive = false;
    };
    let i = 0;
    while (i < n) {
      if (done) {
        yield done;
        done = null;
      }
      const c = chunk.charCodeAt(i);
      if (inString) {
        // Up to the closing quote; a backslash escapes the next character. A raw new line is never part of a
        // JSON string: the quote was not closed on its line.
        let j = i;
        let closed = false;
        if (pendingEscape) {
          pendingEscape = false;
          if (c === NEWLINE)
            refuse(stringLine, `a string opened on line ${stringLine} is not closed on its line`);
          j += 1;
        }
        while (j < n) {
          const d = chunk.charCodeAt(j);
          if (d === QUOTE) {
            closed = true;
            break;
          }
          if (d === NEWLINE)
            refuse(stringLine, `a string opened on line ${stringLine} is not closed on its line`);
          if (d === BACKSLASH) {
            if (j + 1 >= n) {
              pendingEscape = true;
              j = n;
              break;
            }
            if (chunk.charCodeAt(j + 1) === NEWLINE)
              refuse(stringLine, `a string opened on line ${stringLine} is not closed on its line`);
            j += 2;
          } else j += 1;
        }
        if (keyParts) keyParts.push(chunk.slice(i, j));
        if (!closed) {
          i = n;
          break;
        }
        inString = false;
        i = j + 1;
        if (keyParts) {
          key = keyParts.join('');
          keyParts = null;
        }
        continue;
      }
      if (c === NEWLINE) line += 1;
      if (mode === 'record' || mode === 'skip') {
        if (c === QUOTE) {
          inString = true;
          stringLine = line;
        } else if (mode === 'record' && primitive) {
          if (c === COMMA || c === CLOSE_BRACKET || WS.has(c)) {
            if (c === NEWLINE) line -= 1; // read again after the record
            finish(i);
            continue;
          }
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) stack.push({ c, line });
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          const open = stack.pop();
          if (!open) {
            // A primitive value of the top-level object, ended by the object's closing brace.
            mode = 'after-value';
            continue;
          }
          closes(open, c, line);
          if (stack.length === 0) {
            if (mode === 'record') finish(i + 1);
            else mode = 'after-value';
          }
        } else if (mode === 'skip' && c === COMMA && stack.length === 0) {
          mode = 'after-value';
          continue;
        }
        i += 1;
        continue;
      }
      if (WS.has(c)) {
        i += 1;
        continue;
      }
      const ch = String.fromCharCode(c);
      switch (mode) {
        case 'top':
          if (c === OPEN_BRACKET) {
            mode = 'first';
            foundRecords = true;
          } else if (c === OPEN_BRACE) {
            mode = 'key';
            topObject = true;
          } else
            refuse(
              line,
              `the file starts with "${ch}": expected an array of records [ ... ]${expected ? ` or an object with a ${expected} array` : ''}`,
            );
          break;
        case 'key':
          if (c === QUOTE) {
            inString = true;
            stringLine = line;
            keyParts = [];
            mode = 'colon';
          } else if (c === CLOSE_BRACE) mode = 'end';
          else refuse(line, `expected a quoted key, found "${ch}"`);
          break;
        case 'colon':
          if (c !== 0x3a) refuse(line, `expected ":" after the key "${key}", found "${ch}"`);
          mode = 'value';
          break;
        case 'value':
          if (c === OPEN_BRACKET && layout.arrayKeys.includes(key) && !foundRecords) {
            foundRecords = true;
            mode = 'first';
            break;
          }
          mode = 'skip';
          continue; // the value's first character is read again, skipping
        case 'after-value':
          if (c === COMMA) mode = 'key';
          else if (c === CLOSE_BRACE) mode = 'end';
          else refuse(line, `expected "," or "}" after the value of "${key}", found "${ch}"`);
          break;
        case 'first':
        case 'element':
          if (c === CLOSE_BRACKET) {
            if (mode === 'element')
              refuse(line, 'a comma before "]": the last record is followed by a comma');
            mode = topObject ? 'after-value' : 'end';
            break;
          }
          if (c === COMMA) refuse(line, 'a comma where a record was expected');
          mode = 'record';
          recordLine = line;
          start = i;
          parts = [];
          primitive = c !== OPEN_BRACE && c !== OPEN_BRACKET;
          if (primitive && c !== QUOTE) break;
          continue; // the record's first character is read again in record mode
        case 'after-record':
          if (c === COMMA) mode = 'element';
          else if (c === CLOSE_BRACKET) mode = topObject ? 'after-value' : 'end';
          else
            refuse(
              line,
              `expected "," or "]" after the record that starts on line ${recordLine}, found "${ch}" (a missing comma between records?)`,
            );
          break;
        case 'end':
          refuse(line, `text after the end of the JSON value: "${ch}"`);
      }
      i += 1;
    }
    if (done) yield done;
    if (start !== -1 && capture) parts.push(chunk.slice(start));
  }
  if (inString) refuse(stringLine, `the file ends inside a string opened on line ${stringLine}`);
  if (stack.length)
    refuse(
      stack[0].line,
      `the file ends before the "${String.fromCharCode(stack[0].c)}" opened on line ${stack[0].line} is closed`,
    );
  if (!foundRecords)
    throw new FileRefused({
      line: 1,
      column: null,
      value: null,
      reason: `no records: expected an array of records [ ... ]${expected ? ` or an object with a ${expected} array` : ''}`,
    });
  if (mode !== 'end')
    refuse(line, 'the file ends before the JSON is complete (the records array is not closed)');
}
