/**
 * Fuzzing the gateway (issue 10): fast-check arbitraries of whole HTTP requests, built from the API schema the
 * gateway serves, the check every answer must pass, and how to send one. Used by test/e2e/fuzz.test.ts (a
 * fixed seed, a few thousand requests) and scripts/fuzz.ts (`npm run fuzz`, a long run).
 *
 * What is generated (see {@link fuzzRequest}): operations of the real schema with random depth (past
 * MAX_DEPTH too), aliases (past MAX_ALIASES too), fragments, directives, arguments of the right and of the
 * wrong type, variables right, wrong, missing and extra, huge strings, NUL bytes, lone surrogates, RTL and
 * emoji text; the same documents with random edits (bytes flipped, cut short, punctuation inserted); issue
 * 10's hostile documents; broken JSON, non-object JSON and batches; wrong, missing and odd content types,
 * charsets and Accept headers; GETs with query strings (broken percent-encoding too); very long operation
 * names; junk `extensions`, persisted-query hashes and requests by id (`id`, `documentId`), right and wrong.
 *
 * Everything is drawn through fast-check (`fc.gen()`), so a failing request shrinks and a seed replays it.
 */
import { createHash } from 'node:crypto';
import { Supergraph } from '@apollo/federation-internals';
import fc from 'fast-check';
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { loadManifests } from '@civic/gateway/persisted/known';
import { readSupergraph } from '@civic/gateway/supergraph';
import { HOSTILE_DOCUMENTS } from '../bench/hostile-documents';

/** One HTTP request to the gateway, as generated. */
export interface FuzzRequest {
  /** What was generated (`operation`, `mutated-document`, `broken-json`...): for the statistics and reports. */
  kind: string;
  method: string;
  /** Path and query string, from the gateway's origin (`/graphql?query=...`). */
  path: string;
  headers: Record<string, string>;
  /** The body: text is sent as its UTF-8 bytes, and fetch adds no content type of its own. */
  body?: string | Uint8Array<ArrayBuffer>;
}

/** The gateway's API schema: the checked-in supergraph without its federation machinery. */
export function apiSchema(): GraphQLSchema {
  return Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
}

// ---- drawing helpers: every choice goes through fast-check, and shrinks toward the first/simplest ----

type G = fc.GeneratorValue;

const int = (g: G, min: number, max: number): number => g(fc.integer, { min, max });

/** True with probability `p`; shrinks toward false, so a shrunk counterexample keeps only what matters. */
const chance = (g: G, p: number): boolean => int(g, 0, 9999) >= 10000 - Math.round(p * 10000);

const pick = <T>(g: G, items: readonly T[]): T => items[int(g, 0, items.length - 1)];

/** One of the weighted choices; shrinks toward the first. */
function weighted<T>(g: G, choices: readonly (readonly [number, T])[]): T {
  const total = choices.reduce((n, [w]) => n + w, 0);
  let r = int(g, 0, total - 1);
  for (const [w, value] of choices) {
    if (r < w) return value;
    r -= w;
  }
  return choices[choices.length - 1][1];
}

// ---- text ----

/** Ids of the seeded data, so that some operations find something and run through the subgraphs. */
const IDS = [
  'gov-tn',
  'tn-34012-2018',
  'MO0012',
  'AP_MAR01',
  'tn-municipality-33011',
  'tn-34012-2018-EXP-1.02201.0006.003',
  '',
];

/** Text that has broken servers before: NUL, lone surrogates, RTL marks, emoji, SQL and path fragments. */
const SPECIAL_TEXT = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDFFF',
  '\uFEFF',
  '\u202E',
  '\u200F',
  '\u2028',
  '\u0085',
  'مرحبا بالعالم',
  'بوعرادة',
  'ⴰⵣⵓⵍ',
  'שלום',
  '👩‍👩‍👧‍👦',
  '🇲🇦',
  'e\u0301',
  'İı',
  '\\',
  '"',
  "'",
  '%',
  '_',
  '*',
  '%00',
  '\n',
  '\r\n',
  '\t',
  "' OR 1=1 --",
  '"; DROP TABLE budgets; --',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  'null',
  'NaN',
  '-0',
  '1e309',
  '${x}',
  '{{x}}',
  'ゼロ',
  '\u3000',
];

/**
 * How many long or huge strings the request being generated may still get: one, so that a list of 2,000
 * values does not make a 500 MB document (generating it would stall this process, the server's included).
 * Generation is synchronous: {@link request} resets it.
 */
let bigStrings = 1;

/** A string: an id, ASCII, any Unicode (lone surrogates included), special text, long, or huge (past 1 MiB). */
export function text(g: G): string {
  const kind = weighted(g, [
    [30, 'id'],
    [20, 'ascii'],
    [12, 'unicode'],
    [15, 'special'],
    [10, 'binary'],
    [4, 'long'],
    [1, 'huge'],
  ] as const);
  if ((kind === 'long' || kind === 'huge') && bigStrings-- <= 0) return pick(g, IDS);
  switch (kind) {
    case 'id':
      return pick(g, IDS);
    case 'ascii':
      return g(fc.string, { maxLength: 30 });
    case 'unicode':
      return g(fc.string, { unit: 'grapheme', maxLength: 20 });
    case 'binary':
      // Any code unit, unpaired surrogates included.
      return g(fc.string, { unit: 'binary', maxLength: 20 });
    case 'special': {
      const parts: string[] = [];
      for (let i = int(g, 1, 4); i > 0; i--) {
        parts.push(chance(g, 0.3) ? g(fc.string, { maxLength: 8 }) : pick(g, SPECIAL_TEXT));
      }
      return parts.join('');
    }
    case 'long':
      return pick(g, ['x', 'ب', '😀', '\u0000', 'ab ']).repeat(int(g, 1000, 40_000));
    case 'huge':
      // Around MAX_BODY_BYTES (1 MiB): some bodies fit, some get the 413.
      return pick(g, ['x', 'é', '\u0000']).repeat(int(g, 200_000, 1_200_000));
  }
}

/** A GraphQL name: mostly plain, sometimes odd (but still a Name token). */
const name = (g: G): string =>
  chance(g, 0.9)
    ? pick(g, ['a', 'b', 'x', 'Q', 'op', 'Dashboard', '_', '__x', 'a0'])
    : g(fc.stringMatching, /^[_A-Za-z][_0-9A-Za-z]{0,40}$/);

// ---- values: one model, printed as a GraphQL literal or as JSON variables ----

class EnumValue {
  constructor(readonly name: string) {}
}

/** A literal written as source (`1e400`, `-0`, `0x10`): a number in JSON when it is one. */
class RawLiteral {
  constructor(readonly text: string) {}
}

type Value = null | boolean | number | string | EnumValue | RawLiteral | Value[] | { [k: string]: Value };

function literal(v: Value, g: G): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    // Sometimes a block string; usually JSON's escapes, which are GraphQL's (a lone surrogate's `\ud800` is not).
    return chance(g, 0.05) && !v.includes('"""') ? `"""${v}"""` : JSON.stringify(v);
  }
  if (v instanceof EnumValue) return v.name;
  if (v instanceof RawLiteral) return v.text;
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, g)).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}: ${literal(x, g)}`)
    .join(', ')}}`;
}

function json(v: Value): unknown {
  if (v instanceof EnumValue) return v.name;
  if (v instanceof RawLiteral) return Number.isFinite(Number(v.text)) ? Number(v.text) : v.text;
  if (Array.isArray(v)) return v.map(json);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  }
  return v;
}

/** Any value of any shape: what a confused or hostile client sends where something else is expected. */
function anyValue(g: G, depth = 0): Value {
  switch (int(g, 0, depth > 1 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return chance(g, 0.5);
    case 2:
      return pick(g, [0, -1, 1, 101, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1.5, -0.0001, 1e21]);
    case 3:
      return new RawLiteral(
        pick(g, ['1e400', '-0', '0x10', '00', '1.', '.5', '-', 'Infinity', 'NaN', '1_000']),
      );
    case 4:
    case 5:
      return text(g);
    case 6:
      return new EnumValue(pick(g, ['ASC', 'DESC', 'EXPENDITURE', 'NOPE', 'true', 'null', 'FUNCTIONAL']));
    case 7:
      return pick(g, ['ASC', 'APPROVED', '']);
    case 8:
      return Array.from({ length: int(g, 0, 4) }, () => anyValue(g, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: int(g, 0, 3) }, () => [name(g), anyValue(g, depth + 1)] as const),
      );
  }
}

/** A value for `type`: usually of that type, sometimes not (`wrong` of the time). */
function valueFor(g: G, type: GraphQLInputType, wrong: number, depth = 0): Value {
  if (chance(g, wrong)) return anyValue(g, depth);
  if (isNonNullType(type)) return valueFor(g, type.ofType, wrong, depth);
  if (isListType(type)) {
    // A single item is coerced to a list of one; long lists are a bound to test.
    if (chance(g, 0.2)) return valueFor(g, type.ofType, wrong, depth + 1);
    const n = chance(g, 0.03) ? int(g, 50, 2000) : int(g, 0, 3);
    return Array.from({ length: n }, () => valueFor(g, type.ofType, wrong, depth + 1));
  }
  if (isEnumType(type)) return new EnumValue(pick(g, type.getValues()).name);
  if (isInputObjectType(type)) {
    if (depth > 3) return {};
    const out: Record<string, Value> = {};
    for (const f of Object.values(type.getFields())) {
      if (chance(g, isNonNullType(f.type) ? 0.95 : 0.35)) out[f.name] = valueFor(g, f.type, wrong, depth + 1);
    }
    if (wrong > 0 && chance(g, 0.03)) out[name(g)] = anyValue(g, depth + 1);
    return out;
  }
  switch (type.name) {
    case 'Int':
      return weighted<() => number>(g, [
        [8, () => int(g, 0, 120)],
        [1, () => int(g, -100, -1)],
        [1, () => pick(g, [2 ** 31 - 1, 2 ** 31, -(2 ** 31), 1e9])],
      ])();
    case 'Float':
      return g(fc.double, { noNaN: true, noDefaultInfinity: true });
    case 'Boolean':
      return chance(g, 0.5);
    case 'ID':
      return chance(g, 0.1) ? int(g, 0, 99999) : text(g);
    default:
      return text(g);
  }
}

// ---- operations ----

const DIRECTIVES = [
  '@include(if: true)',
  '@skip(if: false)',
  '@skip(if: true)',
  '@include(if: $flag)',
  '@include',
  '@include(if: "yes")',
  '@deprecated',
  '@nope',
  '@defer',
  '@include(if: true) @include(if: false)',
];

/** The depths drawn: within MAX_DEPTH (10) and past it. */
const DEPTHS = [1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 14, 18];

/** Builds one operation document from the schema, with its variables. */
class OperationBuilder {
  private readonly varDefs: string[] = [];
  readonly variables: Record<string, unknown> = {};
  private readonly fragments: string[] = [];
  private counter = 0;
  private flag = false;

  constructor(
    private readonly g: G,
    private readonly schema: GraphQLSchema,
    /** The share of values of the wrong type. */
    private readonly wrong: number,
    /** Whether to break the document on purpose now and then (unknown fields, missing selections...). */
    private readonly breaks: boolean,
  ) {}

  /** True with probability `p` when this document is one that gets broken on purpose; never otherwise. */
  private broken(p: number): boolean {
    return chance(this.g, this.breaks ? p : 0);
  }

  document(): { query: string; operationName?: string } {
    const g = this.g;
    const depth = pick(g, this.breaks ? DEPTHS : DEPTHS.slice(0, 6));
    const root = this.selection(this.schema.getQueryType()!, depth, true);
    const opName = chance(g, 0.5) ? name(g) : undefined;
    if (this.flag) this.varDefs.push(`$flag: Boolean${chance(g, 0.8) ? '!' : ''}`);
    if (this.broken(0.05)) {
      // Declared and never used, or used and never declared.
      this.varDefs.push(`$unused: ${pick(g, ['Int', 'String!', '[ID]', 'Nope'])}`);
    }
    if (this.flag) this.variables.flag = this.broken(0.1) ? json(anyValue(g)) : chance(g, 0.5);
    const keyword = weighted(g, [
      [10, 'query'],
      [3, ''],
      [this.breaks ? 1 : 0, 'mutation'],
      [this.breaks ? 1 : 0, 'subscription'],
    ] as const);
    const defs = this.varDefs.length ? `(${this.varDefs.join(', ')})` : '';
    const head = keyword || opName || defs ? `${keyword || 'query'} ${opName ?? ''}${defs} ` : '';
    let query = `${head}${root}`;
    if (this.broken(0.05)) query += ` query Other { __typename }`;
    if (this.fragments.length) query += `\n${this.fragments.join('\n')}`;
    if (this.broken(0.03)) {
      query += '\nfragment Cycle1 on Query { ...Cycle2 } fragment Cycle2 on Query { ...Cycle1 }';
    }
    return { query, operationName: opName };
  }

  /** `{ ... }` for `type`, `depth` levels deep along one path (so the document grows linearly with depth). */
  private selection(type: GraphQLCompositeType, depth: number, deep: boolean): string {
    const g = this.g;
    if (isAbstractType(type)) {
      const possible = this.schema.getPossibleTypes(type);
      const on = pick(g, possible);
      return `{ __typename ... on ${on.name} ${this.selection(on, depth, deep)} }`;
    }
    const fields = Object.values((type as GraphQLObjectType).getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const nested = fields.filter((f) => isCompositeType(getNamedType(f.type)));
    const out: string[] = [];
    if (deep && depth > 1 && nested.length) out.push(this.field(pick(g, nested), depth - 1, true));
    for (let i = int(g, out.length ? 0 : 1, 3); i > 0; i--) {
      if (depth > 1 && nested.length && chance(g, 0.2)) out.push(this.field(pick(g, nested), 1, false));
      else if (leaves.length && chance(g, 0.9)) out.push(this.field(pick(g, leaves), 0, false));
      else out.push('__typename');
    }
    if (this.broken(0.02)) out.push(`${name(g)}Nope`);
    if (chance(g, 0.03) && depth <= 2) {
      // An alias storm: the same field many times, past MAX_ALIASES sometimes.
      const f = pick(g, leaves.length ? leaves : fields);
      const n = int(g, 2, 45);
      for (let i = 0; i < n; i++)
        out.push(`s${i}: ${f.name === '__typename' ? f.name : this.field(f, 0, false)}`);
    }
    if (this.broken(0.02))
      out.push(`${'@include(if: true) '.repeat(int(g, 20, 60))}`.replace(/^/, '__typename '));
    let body = out.join(' ');
    if (chance(g, 0.08)) {
      // A named fragment, sometimes spread twice; or an inline one.
      const frag = `F${this.counter++}`;
      this.fragments.push(`fragment ${frag} on ${type.name} { ${body} }`);
      body = chance(g, 0.2) ? `...${frag} ...${frag}` : `...${frag}`;
    } else if (chance(g, 0.04)) body = `... on ${type.name} { ${body} }`;
    return `{ ${body} }`;
  }

  private field(f: ReturnType<GraphQLObjectType['getFields']>[string], depth: number, deep: boolean): string {
    const g = this.g;
    const alias = chance(g, 0.1) ? `${name(g)}${this.counter++}: ` : '';
    const args: string[] = [];
    for (const a of f.args) {
      if (isNonNullType(a.type) ? this.broken(0.05) : !chance(g, 0.35)) continue;
      args.push(`${a.name}: ${this.argument(a.type)}`);
      if (this.broken(0.02)) args.push(`${a.name}: ${this.argument(a.type)}`);
    }
    if (this.broken(0.03)) args.push(`${name(g)}: ${literal(anyValue(g), g)}`);
    const argText = args.length ? `(${args.join(', ')})` : '';
    let directive = '';
    if (chance(g, 0.05)) {
      directive = ` ${pick(g, this.breaks ? DIRECTIVES : DIRECTIVES.slice(0, 4))}`;
      if (directive.includes('$flag')) this.flag = true;
    }
    const named = getNamedType(f.type) as GraphQLNamedType;
    let sub = '';
    if (isCompositeType(named)) {
      // Usually a selection; sometimes none (invalid), sometimes one at the deepest level.
      if (!this.broken(0.02)) sub = ` ${this.selection(named, Math.max(depth, 1), deep)}`;
    } else if (this.broken(0.02)) sub = ' { id }';
    return `${alias}${f.name}${argText}${directive}${sub}`;
  }

  /** An argument: a literal, or a variable (declared with its type or a wrong one; given, missing or wrong). */
  private argument(type: GraphQLInputType): string {
    const g = this.g;
    if (!chance(g, 0.25)) return literal(valueFor(g, type, this.wrong), g);
    const v = `v${this.counter++}`;
    const declared = this.broken(0.1)
      ? pick(g, ['String', 'Int!', '[ID!]!', 'Boolean', 'Nope', 'Float'])
      : String(type);
    const defaultValue = chance(g, 0.05) ? ` = ${literal(valueFor(g, type, this.wrong), g)}` : '';
    this.varDefs.push(`$${v}: ${declared}${defaultValue}`);
    if (!this.broken(0.08)) this.variables[v] = json(valueFor(g, type, this.wrong));
    return `$${v}`;
  }
}

/** A generated operation: its document, variables and name. */
function operation(
  g: G,
  schema: GraphQLSchema,
): { query: string; variables: Record<string, unknown>; operationName?: string } {
  // A third of the documents are meant to run: right types, nothing broken on purpose, so that the resolvers,
  // loaders and SQL see the strings; the others are broken in every way the grammar allows.
  const runs = chance(g, 0.35);
  const b = new OperationBuilder(g, schema, runs ? 0 : pick(g, [0, 0.05, 0.3]), !runs);
  const doc = b.document();
  if (chance(g, 0.05)) b.variables[name(g)] = json(anyValue(g));
  return { ...doc, variables: b.variables };
}

const HOSTILE = Object.values(HOSTILE_DOCUMENTS).map((d) => d.query);

// ---- mutation of text and bytes ----

const INSERTS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '$',
  '@',
  '!',
  '...',
  '"',
  '"""',
  '\\',
  '#',
  ',',
  '=',
  '|',
  '&',
  '\u0000',
  '\uD800',
  '😀',
  'query',
  'fragment',
  'on',
  ' ',
  '\n',
  '\\u',
  '\\uD800',
  'ب',
];

/** `s` with a few random edits: characters deleted, inserted, replaced, a slice repeated, or cut short. */
export function mutateText(g: G, s: string): string {
  let out = s;
  for (let n = int(g, 1, 4); n > 0; n--) {
    const at = int(g, 0, out.length);
    switch (int(g, 0, 4)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + int(g, 1, 10));
        break;
      case 1:
        out = out.slice(0, at) + pick(g, INSERTS) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + String.fromCharCode(int(g, 0, 0xffff)) + out.slice(at + 1);
        break;
      case 3: {
        const len = int(g, 1, 40);
        out = out.slice(0, at + len) + out.slice(at, at + len).repeat(int(g, 1, 5)) + out.slice(at + len);
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return out;
}

/** Invalid UTF-8: a lone continuation byte, an overlong NUL, a CESU lone surrogate, bytes never valid. */
const BAD_UTF8 = [
  [0x80],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xff],
  [0xfe, 0xff],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
];

/** `text`'s UTF-8 bytes with a few flipped, replaced, invalid sequences inserted, or cut short. */
function mutateBytes(g: G, text: string): Uint8Array<ArrayBuffer> {
  let bytes = [...Buffer.from(text, 'utf8')];
  for (let n = int(g, 1, 3); n > 0; n--) {
    const at = int(g, 0, Math.max(0, bytes.length - 1));
    switch (int(g, 0, 3)) {
      case 0:
        if (bytes.length) bytes[at] ^= 1 << int(g, 0, 7);
        break;
      case 1:
        bytes.splice(at, 0, ...pick(g, BAD_UTF8));
        break;
      case 2:
        if (bytes.length) bytes[at] = pick(g, [0x00, 0xff, 0x7f, 0x22, 0x5c]);
        break;
      default:
        bytes = bytes.slice(0, at);
    }
  }
  return Uint8Array.from(bytes);
}

// ---- the HTTP envelope ----

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'APPLICATION/JSON',
  'application/json;charset=UTF-8;foo=bar',
  'application/json; charset=latin1',
  'application/json; charset=utf-16le',
  'application/json; charset=bogus',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/graphql',
  'application/xml',
  'application/*',
  '*/*',
  '',
  ';;;',
  'application/json, text/html',
];

const ACCEPTS = [
  'application/graphql-response+json, application/json;q=0.9',
  'application/json',
  'application/graphql-response+json',
  '*/*',
  'text/html',
  'text/html, */*;q=0.1',
  'image/png',
  'text/event-stream',
  'multipart/mixed; deferSpec=20220824, application/json',
  'application/json;q=0, application/graphql-response+json;q=0',
  'application/json;q=abc',
  ',,,',
];

const LANGUAGES = [
  'ar',
  'fr-FR,fr;q=0.9,en;q=0.8',
  '*',
  'xx-YY',
  'ar;q=abc, *;q=2',
  'en,'.repeat(500),
  'zh-Hant-TW',
];

const MISC_HEADERS: [string, string][] = [
  ['apollo-require-preflight', 'true'],
  ['x-apollo-operation-name', 'x'],
  ['x-forwarded-for', '1.2.3.4, 10.0.0.1'],
  ['x-request-id', 'fuzz "<\\>" %00 ' + 'x'.repeat(300)],
  ['content-encoding', 'gzip'],
  ['content-encoding', 'br'],
  ['authorization', 'Bearer x'],
  ['x-api-key', 'nope'],
  ['cookie', 'a=b'],
  ['origin', 'https://evil.example'],
];

/** Random, mostly ordinary, headers (ASCII only: fetch refuses other values, and sets content-length itself). */
function headers(g: G, contentType: string | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  if (contentType !== undefined) h['content-type'] = contentType;
  if (chance(g, 0.4)) h.accept = pick(g, ACCEPTS);
  if (chance(g, 0.15)) h['accept-language'] = pick(g, LANGUAGES);
  if (chance(g, 0.1)) {
    const [k, v] = pick(g, MISC_HEADERS);
    h[k] = v;
  }
  return h;
}

/** A JSON content type, usually; sometimes a wrong, odd or missing one. */
const postContentType = (g: G): string | undefined =>
  chance(g, 0.85) ? 'application/json' : chance(g, 0.1) ? undefined : pick(g, CONTENT_TYPES);

/** Percent-encoding of any string (lone surrogates as U+FFFD, which `encodeURIComponent` would throw on). */
const pct = (s: string): string =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** The most a GET's URL is made long: past Node's 16 KiB header limit the answer is Node's, not the gateway's. */
const MAX_URL = 8000;

/** The ids of the built-in manifests' documents (gateway/src/persisted/manifests), which the gateway runs by id. */
const MANIFEST_IDS = loadManifests().map((d) => d.id);

/** A persisted document's id: a manifest's, the query's own hash, a random one, or a malformed one. */
function documentId(g: G, query: string | undefined): unknown {
  return weighted<() => unknown>(g, [
    [4, () => (MANIFEST_IDS.length ? pick(g, MANIFEST_IDS) : g(fc.stringMatching, /^[0-9a-f]{64}$/))],
    [2, () => (query !== undefined ? createHash('sha256').update(query).digest('hex') : 'x')],
    [2, () => g(fc.stringMatching, /^[0-9a-fA-F]{64}$/)],
    [1, () => json(anyValue(g))],
  ])();
}

/**
 * A body's `extensions`: none mostly; junk; or what Apollo's automatic persisted queries look like (the query's
 * hash, a built-in manifest's, a random one; a right or wrong version).
 */
function extensions(g: G, query: string | undefined): unknown {
  if (!chance(g, 0.15)) return undefined;
  if (chance(g, 0.4)) return json(anyValue(g));
  const sha = chance(g, 0.8) ? documentId(g, query) : g(fc.stringMatching, /^[0-9a-f]{64}$/);
  return {
    persistedQuery: {
      version: pick(g, [1, 1, 2, '1', null]),
      sha256Hash: chance(g, 0.9) ? sha : json(anyValue(g)),
    },
  };
}

/** A request by id: none mostly; else `id` or `documentId` (`sha256:` or not), as persisted documents are asked for. */
function byId(g: G, query: string | undefined): Record<string, unknown> {
  if (!chance(g, 0.08)) return {};
  const id = documentId(g, query);
  const field = chance(g, 0.5) ? 'id' : 'documentId';
  return { [field]: typeof id === 'string' && chance(g, 0.5) ? `sha256:${id}` : id };
}

/** The operation's envelope: operationName, variables and extensions, right or odd. */
function envelope(g: G, op: ReturnType<typeof operation>, query: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (!chance(g, 0.03)) body.query = chance(g, 0.97) ? query : json(anyValue(g));
  if (Object.keys(op.variables).length || chance(g, 0.1)) {
    body.variables = chance(g, 0.95) ? op.variables : json(anyValue(g));
  }
  const opName = weighted<() => unknown>(g, [
    [20, () => op.operationName],
    [2, () => name(g)],
    [1, () => 'x'.repeat(int(g, 1000, 300_000))],
    [1, () => json(anyValue(g))],
  ])();
  if (opName !== undefined) body.operationName = opName;
  const ext = extensions(g, query);
  if (ext !== undefined) body.extensions = ext;
  const id = byId(g, query);
  // A request by id usually comes without its query.
  if (Object.keys(id).length && chance(g, 0.8)) delete body.query;
  Object.assign(body, id);
  if (chance(g, 0.02)) body[name(g)] = json(anyValue(g));
  return body;
}

function post(
  g: G,
  kind: string,
  body: string | Uint8Array<ArrayBuffer>,
  contentType = postContentType(g),
): FuzzRequest {
  return {
    kind,
    method: 'POST',
    path: chance(g, 0.95) ? '/graphql' : '/',
    headers: headers(g, contentType),
    body,
  };
}

/** JSON that is not a GraphQL request: broken, not an object, or a batch. */
const BROKEN_JSON = [
  '',
  '{',
  '}',
  '{"query":',
  '{"query": "{ __typename }"',
  'nul',
  'undefined',
  "{'query': 1}",
  '{"query": "{ __typename }",}',
  '\uFEFF{"query": "{ __typename }"}',
  '{"query": "\\uD800"}',
  '{"query": "\\u0000"}',
  '{"__proto__": {"query": "{ __typename }"}}',
  '{"constructor": {"prototype": {"x": 1}}}',
  '{"query": "{ __typename }", "query": 1}',
  '['.repeat(5000),
  '{"a":'.repeat(3000),
  '1e999999',
  '"\\ud800"',
  '{"query": "{ __typename }"}garbage',
];
const NOT_OBJECTS = [
  '[]',
  'null',
  '42',
  '"x"',
  'true',
  '[{"query": "{ __typename }"}]',
  '[{"query": "{ __typename }"}, {"query": "{ __typename }"}]',
  '[1, 2]',
  '{}',
  '{"query": ""}',
  '{"variables": {}}',
];

/**
 * One request: see the module's comment. `schema` is the API schema ({@link apiSchema}).
 */
function request(g: G, schema: GraphQLSchema): FuzzRequest {
  bigStrings = 1;
  const kind = weighted(g, [
    [40, 'operation'],
    [12, 'get'],
    [14, 'mutated-document'],
    [5, 'hostile'],
    [8, 'mutated-body'],
    [5, 'broken-json'],
    [5, 'not-an-object'],
    [4, 'content-type'],
    [3, 'method'],
  ] as const);
  switch (kind) {
    case 'operation': {
      const op = operation(g, schema);
      return post(g, kind, JSON.stringify(envelope(g, op, op.query)));
    }
    case 'get': {
      const op = operation(g, schema);
      // Cut before encoding: the URL is cut at MAX_URL anyway, and encoding megabytes takes seconds.
      const query = (chance(g, 0.1) ? mutateText(g, op.query) : op.query).slice(0, MAX_URL);
      const id = byId(g, op.query);
      const params: string[] = Object.entries(id).map(([k, v]) => `${k}=${pct(String(v))}`);
      if (!params.length || chance(g, 0.2)) params.push(`query=${pct(query)}`);
      if (Object.keys(op.variables).length) {
        params.push(`variables=${pct(JSON.stringify(op.variables).slice(0, MAX_URL))}`);
      }
      if (op.operationName && chance(g, 0.8)) params.push(`operationName=${pct(op.operationName)}`);
      const ext = extensions(g, op.query);
      if (ext !== undefined) params.push(`extensions=${pct(JSON.stringify(ext))}`);
      if (chance(g, 0.1))
        params.push(
          pick(g, [
            '%',
            '%ZZ',
            '%C0%80',
            '%ED%A0%80',
            '&&&',
            'query=%7B',
            'variables=%7B',
            '=',
            'query',
            'a=%00',
          ]),
        );
      let qs = params.join('&');
      if (chance(g, 0.05)) qs = mutateText(g, qs).replace(/[^\x21-\x7e]/g, (c) => pct(c));
      if (qs.length > MAX_URL) qs = qs.slice(0, MAX_URL);
      const h = headers(g, chance(g, 0.9) ? undefined : pick(g, CONTENT_TYPES));
      // Without it (or a JSON content type), Apollo refuses a GET as a possible CSRF: that is tested too.
      if (chance(g, 0.85)) h['apollo-require-preflight'] = 'true';
      return { kind, method: 'GET', path: `${chance(g, 0.95) ? '/graphql' : '/'}?${qs}`, headers: h };
    }
    case 'mutated-document': {
      const op = operation(g, schema);
      const query = mutateText(g, op.query);
      return post(g, kind, JSON.stringify(envelope(g, { ...op, query }, query)));
    }
    case 'hostile': {
      const query = chance(g, 0.5) ? pick(g, HOSTILE) : mutateText(g, pick(g, HOSTILE));
      return post(g, kind, JSON.stringify({ query }));
    }
    case 'mutated-body': {
      const op = operation(g, schema);
      const body = JSON.stringify(envelope(g, op, op.query));
      return post(g, kind, chance(g, 0.5) ? mutateText(g, body) : mutateBytes(g, body), 'application/json');
    }
    case 'broken-json':
      return post(g, kind, pick(g, BROKEN_JSON), 'application/json');
    case 'not-an-object':
      return post(g, kind, pick(g, NOT_OBJECTS), 'application/json');
    case 'content-type': {
      const op = operation(g, schema);
      const body = chance(g, 0.8) ? JSON.stringify({ query: op.query, variables: op.variables }) : op.query;
      return post(g, kind, body, chance(g, 0.2) ? undefined : pick(g, CONTENT_TYPES));
    }
    case 'method': {
      const method = pick(g, ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
      const withBody = method !== 'HEAD' && chance(g, 0.7);
      return {
        kind,
        method,
        path: '/graphql',
        headers: headers(g, withBody ? 'application/json' : undefined),
        body: withBody ? '{"query":"{ __typename }"}' : undefined,
      };
    }
  }
}

/** Prints a request for a report: long strings cut, bytes as hex. */
export function describeRequest(r: FuzzRequest, max = 600): string {
  const cut = (s: string, n = max) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'string'
        ? `\n  body: ${cut(JSON.stringify(r.body))}`
        : `\n  body (bytes, hex): ${cut(Buffer.from(r.body).toString('hex'))}`;
  return `${r.kind}: ${r.method} ${cut(r.path)}\n  headers: ${JSON.stringify(r.headers)}${body}`;
}

/** One request, printed by {@link describeRequest} in fast-check's reports. */
function printable(g: G, schema: GraphQLSchema): FuzzRequest {
  const r = request(g, schema);
  return Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) });
}

/** The arbitrary of one request (see the module's comment), without fast-check's bias (see {@link fuzzBatches}). */
export function fuzzRequest(schema: GraphQLSchema): fc.Arbitrary<FuzzRequest> {
  return fc.noBias(fc.gen().map((g) => printable(g, schema)));
}

// ---- sending and checking ----

/** What came back. */
export interface FuzzAnswer {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

/** Sends one request to the gateway at `origin` (`http://127.0.0.1:4000`). A network error is thrown. */
export async function send(origin: string, r: FuzzRequest, timeoutMs = 30_000): Promise<FuzzAnswer> {
  const started = performance.now();
  const res = await fetch(origin + r.path, {
    method: r.method,
    headers: r.headers,
    body:
      r.body === undefined
        ? undefined
        : typeof r.body === 'string'
          ? new Uint8Array(Buffer.from(r.body, 'utf8'))
          : r.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    ms: performance.now() - started,
  };
}

/**
 * What an error may not show: a stack, a file, a host or port, SQL, a JavaScript error of the server's. Every
 * repetition is bounded, so that matching stays linear in a message that quotes 100 KB of the client's input.
 */
const LEAKS: RegExp[] = [
  /\n\s{1,20}at\s/,
  /\bat [\w$.<>]{1,200} \([^)]{0,500}:\d{1,6}:\d{1,6}\)/,
  /(\/work\/|\/home\/|\/tmp\/|node_modules|\/usr\/|\b[\w-]{1,100}\.[tj]s:\d)/,
  /127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0/i,
  /\bSELECT\b[\s\S]{0,200}\bFROM\b|\bINSERT INTO\b|\bUPDATE\s{1,10}\S{1,100}\s{1,10}SET\b|\bDELETE FROM\b/i,
  /SQLITE_\w|\bER_[A-Z_]{1,60}\b|QueryFailedError|sqlite|mysql|typeorm/i,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError: Unexpected)\b|Cannot read propert|is not a function|Maximum call stack|undefined is not|Invalid string length/,
];

/** The body as text (bytes read as UTF-8). */
const bodyText = (r: FuzzRequest): string =>
  typeof r.body === 'string' ? r.body : r.body ? Buffer.from(r.body).toString('utf8') : '';

/** Whether `needle` appears in what the client sent (an error may quote the client's own input). */
function echoes(r: FuzzRequest, needle: string): boolean {
  const sent = [r.path, bodyText(r)];
  try {
    sent.push(decodeURIComponent(r.path));
  } catch {
    // A broken percent-encoding is one of the things sent.
  }
  return sent.some((s) => s.includes(needle) || JSON.stringify(s).includes(needle));
}

/**
 * What is wrong with an answer, or nothing: not 5xx; JSON; a well-formed GraphQL response (an object with
 * `data` and/or a non-empty `errors`, each error with a string `message`, a string `extensions.code` when
 * there is one, no `stacktrace`); no internals in any error (stack, path, host, one of `ports`, SQL); and no
 * INTERNAL_SERVER_ERROR, which fuzzed input should never cause (bad input is the client's error). The
 * explorer's HTML at GET / for a browser, and HEAD/OPTIONS without a body, are the exceptions.
 */
export function problems(r: FuzzRequest, a: FuzzAnswer, ports: readonly number[]): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`status ${a.status}`);
  if (r.method === 'HEAD' || (r.method === 'OPTIONS' && a.text === '')) return out;
  if (/^text\/html/.test(a.contentType) && r.method === 'GET' && a.status === 200) return out;
  if (!/^application\/(graphql-response\+)?json\b/.test(a.contentType))
    out.push(`content type "${a.contentType}"`);
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    out.push(`not JSON: ${a.text.slice(0, 200)}`);
    return out;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    out.push('not an object');
    return out;
  }
  const res = body as Record<string, unknown>;
  for (const k of Object.keys(res))
    if (!['data', 'errors', 'extensions'].includes(k)) out.push(`unknown key "${k}"`);
  if (!('data' in res) && !('errors' in res)) out.push('neither data nor errors');
  if ('data' in res && res.data !== null && (typeof res.data !== 'object' || Array.isArray(res.data))) {
    out.push('data is not an object or null');
  }
  if ('extensions' in res && (typeof res.extensions !== 'object' || res.extensions === null)) {
    out.push('extensions is not an object');
  }
  if ('errors' in res) {
    if (!Array.isArray(res.errors) || res.errors.length === 0) out.push('errors is not a non-empty array');
    else {
      for (const e of res.errors as unknown[]) {
        if (typeof e !== 'object' || e === null) {
          out.push('an error is not an object');
          continue;
        }
        const err = e as {
          message?: unknown;
          extensions?: Record<string, unknown>;
          locations?: unknown;
          path?: unknown;
        };
        if (typeof err.message !== 'string' || !err.message) out.push('an error without a string message');
        if (err.extensions !== undefined) {
          if (typeof err.extensions !== 'object' || err.extensions === null)
            out.push('error extensions not an object');
          else {
            if ('code' in err.extensions && typeof err.extensions.code !== 'string')
              out.push('extensions.code not a string');
            if ('stacktrace' in err.extensions) out.push('a stacktrace');
            if (err.extensions.code === 'INTERNAL_SERVER_ERROR')
              out.push(`INTERNAL_SERVER_ERROR: ${err.message}`);
          }
        }
        if (err.locations !== undefined && !Array.isArray(err.locations)) out.push('locations not an array');
        if (err.path !== undefined && !Array.isArray(err.path)) out.push('path not an array');
        const shown = `${String(err.message)} ${JSON.stringify(err.extensions ?? {})}`;
        for (const leak of [...LEAKS, ...ports.map((p) => new RegExp(`[:/]${p}\\b`))]) {
          const m = leak.exec(shown);
          if (m && !echoes(r, m[0])) out.push(`leaks "${m[0]}" in: ${shown.slice(0, 300)}`);
        }
      }
    }
  }
  return out;
}

/** Why the gateway fails its health check (`GET /health`), or undefined when it passes. */
export async function unhealthy(origin: string, timeoutMs = 10_000): Promise<string | undefined> {
  const started = performance.now();
  try {
    const res = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200 || !/"status":"ok"/.test(text))
      return `GET /health: ${res.status} ${text.slice(0, 200)}`;
    return undefined;
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return `GET /health: no answer after ${(performance.now() - started).toFixed(0)} ms (${String(err)}${cause ? `: ${String(cause)}` : ''})`;
  }
}

/** What a run sent and got back. */
export interface FuzzStats {
  requests: number;
  statuses: Map<number, number>;
  kinds: Map<string, number>;
  /** The slowest answers, slowest first (at most 20). */
  slowest: { ms: number; status: number; request: FuzzRequest }[];
  /** Problems let through by `ignore` (a known bug, while it is being fixed), by problem. */
  ignored: Map<string, number>;
}

/** Options of {@link fuzzRunner}. */
export interface FuzzRunnerOptions {
  /** The gateway's origin: `http://127.0.0.1:4000`. */
  origin: string;
  /** The ports that must not appear in an error (the gateway's and the subgraphs'). */
  ports: readonly number[];
  /**
   * Problems to count instead of failing on (scripts/fuzz.ts --ignore), each tested against the problem, the
   * request as {@link describeRequest} prints it, and its body as text: a known bug while it is being fixed.
   */
  ignore?: readonly RegExp[];
  timeoutMs?: number;
}

/**
 * A fast-check predicate over a batch of requests, sent at once: throws with the request, its problems and
 * the answer at the first request that fails {@link problems}, or when the gateway fails its health check
 * after the batch. Keeps {@link FuzzStats} of everything it sent, shrinking included.
 */
export function fuzzRunner(opts: FuzzRunnerOptions): {
  stats: FuzzStats;
  sendBatch(batch: FuzzRequest[]): Promise<void>;
  summary(): string;
} {
  const stats: FuzzStats = {
    requests: 0,
    statuses: new Map(),
    kinds: new Map(),
    slowest: [],
    ignored: new Map(),
  };
  const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  const sendBatch = async (batch: FuzzRequest[]) => {
    const answers = await Promise.all(
      batch.map((r) =>
        send(opts.origin, r, opts.timeoutMs).then(
          (a) => ({ r, a, err: undefined }),
          (err: unknown) => ({ r, a: undefined, err }),
        ),
      ),
    );
    for (const { r, a, err } of answers) {
      stats.requests++;
      count(stats.kinds, r.kind);
      if (!a) {
        const cause = (err as { cause?: unknown }).cause;
        throw new Error(
          `No answer (${String(err)}${cause ? `: ${String(cause)}` : ''}) to\n${describeRequest(r)}`,
        );
      }
      count(stats.statuses, a.status);
      if (stats.slowest.length < 20 || a.ms > stats.slowest[stats.slowest.length - 1].ms) {
        stats.slowest.push({ ms: a.ms, status: a.status, request: r });
        stats.slowest.sort((x, y) => y.ms - x.ms).splice(20);
      }
      const wrong = problems(r, a, opts.ports).filter((p) => {
        const known = opts.ignore?.find((re) =>
          re.test(`${p}\n${describeRequest(r, Infinity)}\n${bodyText(r)}`),
        );
        if (known) count(stats.ignored, known.source);
        return !known;
      });
      if (wrong.length) {
        throw new Error(
          `${wrong.join('; ')}\n${describeRequest(r)}\n  answer: ${a.status} ${a.contentType} ${a.text.slice(0, 600)}`,
        );
      }
    }
    const sick = await unhealthy(opts.origin);
    if (sick) throw new Error(`the gateway failed its health check after this batch: ${sick}`);
  };
  const summary = () => {
    const counts = <K>(m: Map<K, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${String(k)}: ${n}`)
        .join(', ');
    const slow = stats.slowest
      .slice(0, 10)
      .map(
        (s) =>
          `    ${s.ms.toFixed(0).padStart(6)} ms  ${s.status}  ${describeRequest(s.request).slice(0, 200).replace(/\n\s*/g, ' ')}`,
      )
      .join('\n');
    const ignored = stats.ignored.size ? `\n  ignored (known bugs): ${counts(stats.ignored)}` : '';
    return `${stats.requests} requests\n  statuses: ${counts(stats.statuses)}\n  kinds: ${counts(stats.kinds)}${ignored}\n  slowest:\n${slow}`;
  };
  return { stats, sendBatch, summary };
}

/**
 * Batches of 1 to `size` requests, sent at once by {@link fuzzRunner}'s `sendBatch`. One `fc.gen()` draws the
 * whole batch: `fc.array` of `fc.gen()` values gives copies of one request. Without fast-check's bias, which
 * would skew every weighted choice toward its first option.
 */
export const fuzzBatches = (schema: GraphQLSchema, size: number): fc.Arbitrary<FuzzRequest[]> =>
  fc.noBias(fc.gen().map((g) => Array.from({ length: int(g, 1, size) }, () => printable(g, schema))));
