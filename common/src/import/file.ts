import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What an import needs to know of a file before reading its records. */
export interface FileFacts {
  /** SHA-256 of the bytes, hex. */
  checksum: string;
  bytes: number;
  /** The encoding problem that makes the file unreadable as text, if any (UTF-16 and the like). */
  unreadable: string | null;
  /** First line holding bytes that are not UTF-8, null when the whole file is UTF-8. */
  firstNonUtf8Line: number | null;
}

/**
 * Reads a file once, streaming: its checksum, size, and whether it is UTF-8 (and if not, where it first
 * is not). Constant memory whatever the size.
 */
export async function fileFacts(path: string): Promise<FileFacts> {
  const size = (await stat(path)).size;
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let firstNonUtf8Line: number | null = null;
  let head: Buffer | null = null;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (!head) head = chunk.subarray(0, 4);
    if (firstNonUtf8Line === null) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        firstNonUtf8Line = line + countInvalidLine(chunk);
      }
    }
    if (firstNonUtf8Line === null) line += countNewlines(chunk);
  }
  if (firstNonUtf8Line === null) {
    try {
      decoder.decode();
    } catch {
      firstNonUtf8Line = line;
    }
  }
  let unreadable: string | null = null;
  if (
    head &&
    head.length >= 2 &&
    ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
  )
    unreadable = 'the file is UTF-16 (as Excel saves "Unicode text"); save it as CSV UTF-8';
  return { checksum: hash.digest('hex'), bytes: size, unreadable, firstNonUtf8Line };
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n += 1;
  return n;
}

/** Newlines before the first byte sequence of `b` that is not UTF-8 (the chunk's own count). */
function countInvalidLine(b: Buffer): number {
  const d = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  let lines = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) {
    try {
      d.decode(b.subarray(start, i + 1), { stream: true });
    } catch {
      return lines;
    }
    lines += 1;
    start = i + 1;
  }
  return lines;
}

/** Why a value read from a non-UTF-8 file is unreadable, or null when it reads fine. */
export function encodingProblem(value: string, facts: FileFacts): string | null {
  if (facts.firstNonUtf8Line === null || !value.includes('\uFFFD')) return null;
  return 'not valid UTF-8 (the file seems to be in another encoding, such as Windows-1252 or Windows-1256): save it as UTF-8';
}
