import type { RecordReader } from './organization-record';
import { uniqueIdentifiers } from './rows';

/*
 * The identifiers of a record of the `organizations` import kind, from either form the export writes: the
 * `identifiers.scheme` and `identifiers.value` columns (two "; "-separated lists of the same length), or the
 * combined `identifiers` column ("scheme:value; ..." in CSV, a list of strings or of { scheme, value } in
 * JSON). Both may be given; the record's identifiers are all of them, once each.
 */

const MAX_SCHEME = 64;
const MAX_VALUE = 191;

const IDENTIFIER_COLUMNS = ['identifiers.scheme', 'identifiers.value', 'identifiers'];

/** An identifier as read, with the column it was read from (for issues). */
interface FoundIdentifier {
  scheme: string;
  value: string;
  column: string;
}

/** Splits a list cell of the export ("a; b; c"), keeping empty places so that two lists zip. */
const splitList = (s: string) => (s.trim() === '' ? [] : s.split(';').map((x) => x.trim()));

/** The identifiers of the `identifiers.scheme` and `identifiers.value` lists, zipped; none if they differ in length. */
function listIdentifiers(r: RecordReader): FoundIdentifier[] {
  const schemes = splitList(r.text('identifiers.scheme'));
  const values = splitList(r.text('identifiers.value'));
  if (schemes.length !== values.length) {
    r.bad(
      'identifiers.value',
      r.text('identifiers.value'),
      `${schemes.length} identifier schemes but ${values.length} values (identifiers.scheme and identifiers.value are "; "-separated lists of the same length)`,
    );
    return [];
  }
  return schemes.map((scheme, i) => ({ scheme, value: values[i], column: 'identifiers.value' }));
}

/** A scheme or value of an identifier object: text trimmed, a number as written, anything else empty. */
const part = (v: unknown) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');

/** One entry of the combined `identifiers` column: "scheme:value" or { scheme, value }; null if neither. */
function combinedEntry(r: RecordReader, p: unknown): FoundIdentifier | null {
  if (typeof p === 'string') {
    const at = p.indexOf(':');
    if (at >= 0)
      return { scheme: p.slice(0, at).trim(), value: p.slice(at + 1).trim(), column: 'identifiers' };
    r.bad('identifiers', p, 'an identifier is written scheme:value (e.g. tn-municipality:33011)');
    return null;
  }
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const o = p as Record<string, unknown>;
    return { scheme: part(o.scheme), value: part(o.value), column: 'identifiers' };
  }
  r.bad(
    'identifiers',
    JSON.stringify(p),
    'an identifier is { "scheme": ..., "value": ... } or "scheme:value"',
  );
  return null;
}

/** The identifiers of the combined `identifiers` column: a JSON list, or a "; "-separated list of text. */
function combinedIdentifiers(r: RecordReader): FoundIdentifier[] {
  const combined = r.raw('identifiers');
  const pairs: unknown[] = Array.isArray(combined) ? combined : splitList(r.text('identifiers'));
  const found: FoundIdentifier[] = [];
  for (const p of pairs) {
    const entry = combinedEntry(r, p);
    if (entry) found.push(entry);
  }
  return found;
}

/** Reports each identifier without a scheme or a value (one wholly empty is skipped), or too long. */
function checkIdentifiers(r: RecordReader, found: readonly FoundIdentifier[]): void {
  for (const i of found) {
    if (!i.scheme && !i.value) continue;
    if (!i.scheme || !i.value)
      r.bad(i.column, `${i.scheme}:${i.value}`, `an identifier needs a scheme and a value`);
    else if (i.scheme.length > MAX_SCHEME)
      r.bad(i.column, i.scheme, `identifier scheme too long (at most ${MAX_SCHEME})`);
    else if (i.value.length > MAX_VALUE)
      r.bad(i.column, i.value, `identifier value too long (at most ${MAX_VALUE})`);
  }
}

/**
 * The record's identifiers, once each (those without a scheme or a value dropped); null when the record has
 * no identifier column, so that its stored identifiers are left as they are.
 */
export function readIdentifiers(r: RecordReader): { scheme: string; value: string }[] | null {
  if (!IDENTIFIER_COLUMNS.some((c) => r.has(c))) return null;
  const found = [...listIdentifiers(r), ...combinedIdentifiers(r)];
  checkIdentifiers(r, found);
  return uniqueIdentifiers(found.filter((i) => i.scheme && i.value)).map(({ scheme, value }) => ({
    scheme,
    value,
  }));
}
