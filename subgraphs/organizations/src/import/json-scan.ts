import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { FileRefused } from '@civic/common/import/csv';

/*
 * Finding the records of a JSON file without holding it in memory: the text and first line of each record,
 * one non-blank line each in JSON Lines, or each element of the records array in a JSON file. Parsing a
 * record is json.ts's (JSON.parse); this only needs strings and brackets to find where one ends.
 */

/** The text of one record, and the line it starts on. */
export interface RawRecord {
  line: number;
  text: string;
}

/** Where the records are when the file is an object: the first of these keys whose value is an array. */
export interface ArrayLayout {
  arrayKeys: readonly string[];
}

/** A file's text in chunks of 256 KiB, decoded as UTF-8 (a character split between chunks kept whole). */
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
export async function* jsonLines(path: string): AsyncGenerator<RawRecord> {
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
const COLON = 0x3a;
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

/** A bracket open inside a record or a skipped value, with the line it opened on. */
interface Open {
  c: number;
  line: number;
}

/** Refuses the file where its structure is broken, with the line a person should look at. */
function refuse(line: number, reason: string): never {
  throw new FileRefused({ line, column: null, value: null, reason: `invalid JSON: ${reason}` });
}

/** The reason a file has no records array, naming the layout's keys. */
function noRecords(layout: ArrayLayout, found: string): string {
  const expected = layout.arrayKeys.map((k) => `"${k}"`).join(' or ');
  return `${found}: expected an array of records [ ... ]${expected ? ` or an object with a ${expected} array` : ''}`;
}

/** Refuses a closing bracket that does not match the one it closes (`]` for a `{`). */
function checkCloses(open: Open, c: number, line: number): void {
  if ((open.c === OPEN_BRACE) !== (c === CLOSE_BRACE))
    refuse(
      line,
      `"${String.fromCharCode(c)}" closes the "${String.fromCharCode(open.c)}" opened on line ${open.line}`,
    );
}

/**
 * The scanner's state across chunks: where in the structure it is (`mode`), the open brackets and string,
 * and the record being captured. Each step reads the character at an index of the current chunk and returns
 * the index to read next: the same index when the character is to be read again in the new mode.
 */
class ArrayScanner {
  private mode: Mode = 'top';
  private line = 1;
  /** Open brackets inside a record or a skipped value, with the line each opened on. */
  private readonly stack: Open[] = [];
  private inString = false;
  private pendingEscape = false;
  private stringLine = 0;
  private key = '';
  private keyParts: string[] | null = null;
  private topObject = false;
  private foundRecords = false;
  private recordLine = 0;
  private primitive = false;
  private parts: string[] = [];
  /** Where the record being read starts in the current chunk (0 when it began in an earlier one), or -1. */
  private start = -1;
  private chunk = '';
  private done: RawRecord | null = null;

  constructor(
    private readonly layout: ArrayLayout,
    private readonly capture: boolean,
  ) {}

  /** The records that end in a chunk, each given as soon as its end is read. */
  *scan(chunk: string): Generator<RawRecord> {
    if (this.start !== -1) this.start = 0;
    this.chunk = chunk;
    let i = 0;
    while (i < chunk.length) {
      if (this.done) {
        yield this.done;
        this.done = null;
      }
      i = this.step(i);
    }
    if (this.done) {
      yield this.done;
      this.done = null;
    }
    if (this.start !== -1 && this.capture) this.parts.push(chunk.slice(this.start));
  }

  /** Refuses a file that ends before its structure is complete. */
  end(): void {
    const { stack, stringLine } = this;
    if (this.inString) refuse(stringLine, `the file ends inside a string opened on line ${stringLine}`);
    if (stack.length)
      refuse(
        stack[0].line,
        `the file ends before the "${String.fromCharCode(stack[0].c)}" opened on line ${stack[0].line} is closed`,
      );
    if (!this.foundRecords)
      throw new FileRefused({
        line: 1,
        column: null,
        value: null,
        reason: noRecords(this.layout, 'no records'),
      });
    if (this.mode !== 'end')
      refuse(this.line, 'the file ends before the JSON is complete (the records array is not closed)');
  }

  private step(i: number): number {
    if (this.inString) return this.string(i);
    const c = this.chunk.charCodeAt(i);
    if (c === NEWLINE) this.line += 1;
    if (this.mode === 'record' || this.mode === 'skip') return this.value(c, i);
    if (WS.has(c)) return i + 1;
    return this.structure(c, i);
  }

  /** The record read so far ends before `end`: it is given out (when capturing), and a comma or ] follows. */
  private finish(end: number): void {
    if (this.capture) {
      this.parts.push(this.chunk.slice(this.start, end));
      this.done = { line: this.recordLine, text: this.parts.join('') };
    }
    this.parts = [];
    this.start = -1;
    this.mode = 'after-record';
    this.primitive = false;
  }

  private openString(): void {
    this.inString = true;
    this.stringLine = this.line;
  }

  private unclosedString(): never {
    return refuse(this.stringLine, `a string opened on line ${this.stringLine} is not closed on its line`);
  }

  /**
   * Inside a string: up to the closing quote; a backslash escapes the next character (perhaps in the next
   * chunk). A raw new line is never part of a JSON string: the quote was not closed on its line.
   */
  private string(i: number): number {
    const { chunk } = this;
    const n = chunk.length;
    let j = i;
    let closed = false;
    if (this.pendingEscape) {
      this.pendingEscape = false;
      if (chunk.charCodeAt(i) === NEWLINE) this.unclosedString();
      j += 1;
    }
    while (j < n) {
      const d = chunk.charCodeAt(j);
      if (d === QUOTE) {
        closed = true;
        break;
      }
      if (d === NEWLINE) this.unclosedString();
      if (d === BACKSLASH) {
        if (j + 1 >= n) {
          this.pendingEscape = true;
          j = n;
          break;
        }
        if (chunk.charCodeAt(j + 1) === NEWLINE) this.unclosedString();
        j += 2;
      } else j += 1;
    }
    if (this.keyParts) this.keyParts.push(chunk.slice(i, j));
    if (!closed) return n;
    this.inString = false;
    if (this.keyParts) {
      this.key = this.keyParts.join('');
      this.keyParts = null;
    }
    return j + 1;
  }

  /** Inside a record or a skipped value: strings and brackets, until the value ends. */
  private value(c: number, i: number): number {
    if (c === QUOTE) this.openString();
    else if (this.mode === 'record' && this.primitive) {
      if (c === COMMA || c === CLOSE_BRACKET || WS.has(c)) {
        if (c === NEWLINE) this.line -= 1; // read again after the record
        this.finish(i);
        return i;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.stack.push({ c, line: this.line });
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      const open = this.stack.pop();
      if (!open) {
        // A primitive value of the top-level object, ended by the object's closing brace.
        this.mode = 'after-value';
        return i;
      }
      checkCloses(open, c, this.line);
      if (this.stack.length === 0) {
        if (this.mode === 'record') this.finish(i + 1);
        else this.mode = 'after-value';
      }
    } else if (this.mode === 'skip' && c === COMMA && this.stack.length === 0) {
      this.mode = 'after-value';
      return i;
    }
    return i + 1;
  }

  /** Outside records and skipped values: the top-level object or array's punctuation. */
  private structure(c: number, i: number): number {
    const ch = String.fromCharCode(c);
    switch (this.mode) {
      case 'top':
        this.top(c, ch);
        break;
      case 'key':
        if (c === QUOTE) {
          this.openString();
          this.keyParts = [];
          this.mode = 'colon';
        } else if (c === CLOSE_BRACE) this.mode = 'end';
        else refuse(this.line, `expected a quoted key, found "${ch}"`);
        break;
      case 'colon':
        if (c !== COLON) refuse(this.line, `expected ":" after the key "${this.key}", found "${ch}"`);
        this.mode = 'value';
        break;
      case 'value':
        if (c === OPEN_BRACKET && this.layout.arrayKeys.includes(this.key) && !this.foundRecords) {
          this.foundRecords = true;
          this.mode = 'first';
          break;
        }
        this.mode = 'skip';
        return i; // the value's first character is read again, skipping
      case 'after-value':
        if (c === COMMA) this.mode = 'key';
        else if (c === CLOSE_BRACE) this.mode = 'end';
        else refuse(this.line, `expected "," or "}" after the value of "${this.key}", found "${ch}"`);
        break;
      case 'first':
      case 'element':
        return this.element(c, i);
      case 'after-record':
        this.afterRecord(c, ch);
        break;
      case 'end':
        refuse(this.line, `text after the end of the JSON value: "${ch}"`);
    }
    return i + 1;
  }

  /** The top-level value: the records array, or an object holding it. */
  private top(c: number, ch: string): void {
    if (c === OPEN_BRACKET) {
      this.mode = 'first';
      this.foundRecords = true;
    } else if (c === OPEN_BRACE) {
      this.mode = 'key';
      this.topObject = true;
    } else refuse(this.line, noRecords(this.layout, `the file starts with "${ch}"`));
  }

  /** Where a record is expected: its first character starts one (read again in record mode), or ] ends. */
  private element(c: number, i: number): number {
    if (c === CLOSE_BRACKET) {
      if (this.mode === 'element')
        refuse(this.line, 'a comma before "]": the last record is followed by a comma');
      this.mode = this.topObject ? 'after-value' : 'end';
      return i + 1;
    }
    if (c === COMMA) refuse(this.line, 'a comma where a record was expected');
    this.mode = 'record';
    this.recordLine = this.line;
    this.start = i;
    this.parts = [];
    this.primitive = c !== OPEN_BRACE && c !== OPEN_BRACKET;
    if (this.primitive && c !== QUOTE) return i + 1;
    return i; // the record's first character is read again in record mode
  }

  private afterRecord(c: number, ch: string): void {
    if (c === COMMA) this.mode = 'element';
    else if (c === CLOSE_BRACKET) this.mode = this.topObject ? 'after-value' : 'end';
    else
      refuse(
        this.line,
        `expected "," or "]" after the record that starts on line ${this.recordLine}, found "${ch}" (a missing comma between records?)`,
      );
  }
}

/**
 * The structure of a JSON file, one character at a time outside strings: finds the records array (the top
 * level, or under one of the layout's keys), and the text and first line of each of its elements.
 * Throws FileRefused, with the line, where the structure is broken. With `capture` false it only checks
 * (a first pass, so that a broken file never loads half).
 */
export async function* scanArray(
  path: string,
  layout: ArrayLayout,
  capture: boolean,
): AsyncGenerator<RawRecord> {
  const scanner = new ArrayScanner(layout, capture);
  for await (const chunk of chunks(path)) yield* scanner.scan(chunk);
  scanner.end();
}
