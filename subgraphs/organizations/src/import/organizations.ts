import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { normalizeHeader, readCsv, type CsvColumn, type CsvLayout } from '../../../../common/src/import/csv';
import type { SubgraphImporter } from '../../../../common/src/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '../../../../common/src/import/pipeline';
import type { ImportIssue } from '../../../../common/src/import/report';
import { guessNameLanguage } from '../../../../common/src/datasets/ogp-export';
import { institutionId } from '../../../../common/src/keys';
import { LANGUAGES, type Language } from '../../../../common/src/localized';
import { cleanName, hasName, isArabicScript, readNames, type Names } from '../seed/admin-divisions';
import { readJsonRecords } from './json';
import {
  missingOrganizations,
  organizationRow,
  pruneOrganizations,
  uniqueIdentifiers,
  warnMissingParents,
  writeOrganizations,
  type OrganizationField,
  type OrganizationRow,
} from './rows';
import { MAX_KEY, parseCountry, parseJoined, parseKey, parseKind, parseOgpType } from './values';

/**
 * The `organizations` import kind: a CSV or JSON file of organizations (names in one or more languages, kind,
 * country, classification, parent, identifiers, OGP membership), e.g. a list of civil-society organizations,
 * or the CSV or JSON that `/export.csv?query=organizations` gives (so an export can be edited and loaded
 * back). Every record belongs to a dataset (--dataset, by default the file's name without its extension):
 * the dataset's records that a newer file no longer has are reported, and deleted with --prune.
 */

const LANGUAGE_NAMES: Record<Language, readonly string[]> = {
  ar: ['arabic', 'arabe'],
  fr: ['french', 'francais'],
  en: ['english', 'anglais'],
  es: ['spanish', 'espagnol', 'espanol'],
};

/**
 * The columns, named as the gateway's export names them (dotted paths of the GraphQL fields), with the
 * other names people give them. Headers compare without case, spaces or punctuation: `name_ar`, `nameAr`
 * and `Name AR` are one.
 */
export const ORGANIZATION_COLUMNS: readonly CsvColumn[] = [
  { name: 'id', aliases: ['key', 'organization id', 'org id', 'stable key'] },
  ...LANGUAGES.map((l) => ({
    name: `names.${l}`,
    aliases: [
      `name_${l}`,
      `nom_${l}`,
      ...LANGUAGE_NAMES[l].flatMap((n) => [`name (${n})`, `${n} name`, `nom (${n})`, `nom ${n}`]),
    ],
  })),
  { name: 'name', aliases: ['organization', 'organization name', 'organisation', 'nom'] },
  { name: 'kind', required: true, aliases: ['organization kind', 'organization type', 'type', 'category'] },
  { name: 'country', aliases: ['country code', 'iso2', 'pays'] },
  { name: 'classification', aliases: ['subtype'] },
  { name: 'parent.id', aliases: ['parent', 'parent_id', 'parent key', 'parent organization'] },
  { name: 'parent.name' },
  { name: 'identifiers.scheme', aliases: ['identifier scheme'] },
  { name: 'identifiers.value', aliases: ['identifier value'] },
  { name: 'identifiers', aliases: ['identifier'] },
  {
    name: 'ogpMembership.type',
    aliases: ['ogp membership', 'ogp membership type', 'ogp type', 'membership type'],
  },
  {
    name: 'ogpMembership.joined',
    aliases: ['ogp joined', 'ogp membership joined', 'joined', 'membership joined'],
  },
];

/** Columns read but never stored: where an exported record came from (the import is its source now). */
const ignored = (header: string) =>
  normalizeHeader(header).startsWith('source') || normalizeHeader(header) === 'parentname';

const BY_HEADER = new Map<string, string>();
for (const c of ORGANIZATION_COLUMNS)
  for (const h of [c.name, ...(c.aliases ?? [])]) BY_HEADER.set(normalizeHeader(h), c.name);

/** One source record, by canonical column name; a column the source does not have is absent. */
interface OrganizationSource {
  values: Map<string, unknown>;
  /** The column or JSON path each value was read from, for issues. */
  labels: Map<string, string>;
}

/** The dataset an organizations file loads into: --dataset, or the file's name without its extension. */
export function datasetOf(file: string, params: Readonly<Record<string, string | undefined>>): string {
  const given = params.dataset?.trim();
  return given || basename(file).replace(/\.(csv|json|jsonl|ndjson)$/i, '');
}

/** The first bytes of a file, for telling its format from its content. */
function head(path: string, bytes = 4096): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}

/** CSV or JSON by extension; by the first character for any other extension. */
function formatOf(path: string): 'csv' | 'json' {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(json|jsonl|ndjson)$/i.test(path)) return 'json';
  return /^\s*[[{]/.test(head(path)) ? 'json' : 'csv';
}

/** A header line with more semicolons (or tabs) than commas is read with that delimiter (Excel in French). */
function delimiterOf(path: string): string {
  const first = head(path).split('\n')[0];
  const count = (c: string) => first.split(c).length - 1;
  if (count('\t') > count(',') && count('\t') > count(';')) return '\t';
  return count(';') > count(',') ? ';' : ',';
}

/** A JSON record as dotted paths (`names.fr`, `parent.id`), mapped to the CSV columns' names. */
function fromJson(
  value: unknown,
  line: number,
  ctx: ImportContext,
  unknownKeys: Set<string>,
): OrganizationSource | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    ctx.refuse([ctx.issue(line, null, JSON.stringify(value), 'a record must be a JSON object')]);
    return null;
  }
  const values = new Map<string, unknown>();
  const labels = new Map<string, string>();
  const put = (path: string, v: unknown) => {
    if (ignored(path)) return;
    const name = BY_HEADER.get(normalizeHeader(path));
    if (!name) {
      if (path === 'names' && v === null) return;
      if (!unknownKeys.has(path)) {
        unknownKeys.add(path);
        ctx.warn(ctx.issue(line, path, null, 'unknown key ignored (reported once)'));
      }
      return;
    }
    if (values.has(name)) return;
    values.set(name, v);
    labels.set(name, path);
  };
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k2, v2] of Object.entries(v)) put(`${k}.${k2}`, v2);
    else put(k, v);
  }
  return { values, labels };
}

/** Splits a list cell of the export ("a; b; c"), keeping empty places so that two lists zip. */
const splitList = (s: string) => (s.trim() === '' ? [] : s.split(';').map((x) => x.trim()));

const MAX_NAME = 512;
const MAX_CLASSIFICATION = 64;
const MAX_SCHEME = 64;
const MAX_VALUE = 191;

/**
 * Validates one record into the row it writes, or refuses it with every problem it has (each with its column
 * and value). Fields the source does not have are left as stored.
 */
function validate(
  src: OrganizationSource,
  line: number,
  ctx: ImportContext,
  source: { dataset: string; url: string | null; license: string | null },
): OrganizationRow | null {
  const issues: ImportIssue[] = [];
  const label = (name: string) => src.labels.get(name) ?? name;
  const bad = (name: string | null, value: unknown, reason: string) =>
    issues.push(ctx.issue(line, name === null ? null : label(name), value, reason));
  const warn = (name: string | null, message: string) =>
    ctx.warn(ctx.issue(line, name === null ? null : label(name), null, message));
  const has = (name: string) => src.values.has(name);
  /** A value as text ('' when empty or null); numbers are read as written. */
  const text = (name: string): string => {
    const v = src.values.get(name);
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    bad(name, JSON.stringify(v), `expected text, found ${Array.isArray(v) ? 'a list' : 'an object'}`);
    return '';
  };

  // Names: the per-language columns; a lone `name` goes to the language it is written in.
  const names: Names = readNames(
    Object.fromEntries(LANGUAGES.map((l) => [l, text(`names.${l}`)])),
    (field, message) => warn(field, message),
    'names',
  );
  if (!hasName(names)) {
    const name = cleanName(text('name'), 'name', warn);
    if (name) {
      const lang = isArabicScript(name) ? 'ar' : guessNameLanguage(name);
      names[lang === 'ar' ? 'nameAr' : lang === 'fr' ? 'nameFr' : lang === 'es' ? 'nameEs' : 'nameEn'] = name;
    }
  }
  if (!hasName(names)) bad(null, null, 'no name: give names.ar, names.fr, names.en or names.es (or name)');
  for (const l of LANGUAGES) {
    const v = names[`name${l[0].toUpperCase()}${l[1]}` as keyof Names];
    if (v && v.length > MAX_NAME)
      bad(`names.${l}`, v, `too long (${v.length} characters; at most ${MAX_NAME})`);
  }

  const rawKind = text('kind').trim();
  let kind = null;
  if (!rawKind) bad('kind', null, 'no kind');
  else {
    const k = parseKind(rawKind);
    if ('problem' in k) bad('kind', rawKind, k.problem);
    else kind = k.value;
  }

  let country: string | null = null;
  const rawCountry = text('country').trim();
  if (rawCountry) {
    const c = parseCountry(rawCountry);
    if ('problem' in c) bad('country', rawCountry, c.problem);
    else country = c.value;
  }

  let id: string | null = null;
  const rawId = text('id').trim();
  if (rawId) {
    const k = parseKey(rawId);
    if ('problem' in k) bad('id', rawId, `id: ${k.problem}`);
    else id = k.value;
  } else if (hasName(names)) {
    // No id: the stable key of an institution of this name in this country, as the OGP seed makes it.
    id = institutionId(country, (names.nameEn ?? names.nameFr ?? names.nameEs ?? names.nameAr)!);
    if (id.length > MAX_KEY) id = id.slice(0, MAX_KEY);
  }

  const classification = has('classification')
    ? cleanName(text('classification'), 'classification', warn)
    : null;
  if (classification && classification.length > MAX_CLASSIFICATION)
    bad(
      'classification',
      classification,
      `too long (${classification.length} characters; at most ${MAX_CLASSIFICATION})`,
    );

  let parentId: string | null = null;
  const rawParent = text('parent.id').trim();
  if (rawParent) {
    const p = parseKey(rawParent);
    if ('problem' in p) bad('parent.id', rawParent, `parent: ${p.problem}`);
    else if (p.value === id) bad('parent.id', rawParent, 'an organization cannot be its own parent');
    else parentId = p.value;
  }

  const idColumns = ['identifiers.scheme', 'identifiers.value', 'identifiers'];
  let identifiers: { scheme: string; value: string }[] | null = null;
  if (idColumns.some(has)) {
    const found: { scheme: string; value: string; column: string }[] = [];
    const schemes = splitList(text('identifiers.scheme'));
    const values = splitList(text('identifiers.value'));
    if (schemes.length !== values.length)
      bad(
        'identifiers.value',
        text('identifiers.value'),
        `${schemes.length} identifier schemes but ${values.length} values (identifiers.scheme and identifiers.value are "; "-separated lists of the same length)`,
      );
    else schemes.forEach((s, i) => found.push({ scheme: s, value: values[i], column: 'identifiers.value' }));
    const combined = src.values.get('identifiers');
    const pairs: unknown[] = Array.isArray(combined) ? combined : splitList(text('identifiers'));
    for (const p of pairs) {
      if (typeof p === 'string') {
        const at = p.indexOf(':');
        if (at < 0)
          bad('identifiers', p, 'an identifier is written scheme:value (e.g. tn-municipality:33011)');
        else
          found.push({ scheme: p.slice(0, at).trim(), value: p.slice(at + 1).trim(), column: 'identifiers' });
      } else if (p && typeof p === 'object' && !Array.isArray(p)) {
        const o = p as Record<string, unknown>;
        const str = (v: unknown) =>
          typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
        found.push({ scheme: str(o.scheme), value: str(o.value), column: 'identifiers' });
      } else
        bad(
          'identifiers',
          JSON.stringify(p),
          'an identifier is { "scheme": ..., "value": ... } or "scheme:value"',
        );
    }
    for (const i of found) {
      if (!i.scheme && !i.value) continue;
      if (!i.scheme || !i.value)
        bad(i.column, `${i.scheme}:${i.value}`, `an identifier needs a scheme and a value`);
      else if (i.scheme.length > MAX_SCHEME)
        bad(i.column, i.scheme, `identifier scheme too long (at most ${MAX_SCHEME})`);
      else if (i.value.length > MAX_VALUE)
        bad(i.column, i.value, `identifier value too long (at most ${MAX_VALUE})`);
    }
    identifiers = uniqueIdentifiers(found.filter((i) => i.scheme && i.value)).map(({ scheme, value }) => ({
      scheme,
      value,
    }));
  }

  let ogpType: 'NATIONAL' | 'LOCAL' | null = null;
  let ogpJoined: string | null = null;
  const hasOgp = has('ogpMembership.type') || has('ogpMembership.joined');
  if (hasOgp) {
    const rawType = text('ogpMembership.type').trim();
    const rawJoined = text('ogpMembership.joined').trim();
    if (rawType) {
      const t = parseOgpType(rawType);
      if ('problem' in t) bad('ogpMembership.type', rawType, t.problem);
      else ogpType = t.value;
    }
    if (rawJoined) {
      const j = parseJoined(rawJoined);
      if ('problem' in j) bad('ogpMembership.joined', rawJoined, j.problem);
      else ogpJoined = j.value;
      if (!rawType) bad('ogpMembership.joined', rawJoined, 'a date joined without an OGP membership type');
    }
  }

  if (issues.length || !id || !kind) {
    ctx.refuse(issues);
    return null;
  }
  const fields: OrganizationField[] = [];
  if (has('classification')) fields.push('classification');
  if (has('country')) fields.push('country');
  if (has('parent.id')) fields.push('parent');
  if (hasOgp) fields.push('ogp');
  return organizationRow(
    ctx,
    source,
    line,
    id,
    {
      id,
      kind,
      classification,
      country,
      parentId,
      ...names,
      ogpMembershipType: ogpType,
      ogpJoined,
    },
    fields,
    identifiers,
  );
}

/** The `organizations` part, for one run's options (--dataset, --source-url, --license). */
export function organizationsPart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<OrganizationSource, OrganizationRow> {
  const unknownKeys = new Set<string>();
  const sourceOf = (ctx: ImportContext) => ({
    dataset: datasetOf(ctx.file, params),
    url: params['source-url']?.trim() || null,
    license: params.license?.trim() || null,
  });
  let source: ReturnType<typeof sourceOf> | null = null;
  return {
    importer: 'organizations',
    subgraph: 'organizations',
    scope: (ctx) => datasetOf(ctx.file, params),
    async *read(ctx): AsyncIterable<SourceRow<OrganizationSource>> {
      source = sourceOf(ctx);
      unknownKeys.clear();
      if (formatOf(ctx.path) === 'json') {
        for await (const r of readJsonRecords(
          ctx.path,
          ctx.file,
          ctx.facts,
          { arrayKeys: ['organizations', 'nodes'] },
          ctx,
        )) {
          const data = fromJson(r.value, r.line, ctx, unknownKeys);
          if (data) yield { line: r.line, data };
        }
        return;
      }
      const layout: CsvLayout = {
        columns: ORGANIZATION_COLUMNS,
        delimiter: delimiterOf(ctx.path),
        extra: (h) => (ignored(h) ? `~${h}` : null),
      };
      for await (const r of readCsv(ctx.path, ctx.file, ctx.facts, layout, ctx)) {
        const values = new Map<string, unknown>();
        for (const [k, v] of Object.entries(r.values)) if (!k.startsWith('~')) values.set(k, v);
        yield { line: r.line, data: { values, labels: new Map() } };
      }
    },
    validate: (row, ctx) => validate(row.data, row.line, ctx, source ?? sourceOf(ctx)),
    key: (r) => r.org.id,
    write: (m, rows, w) => writeOrganizations(m, rows, w),
    async missing(m, ctx, scope) {
      await warnMissingParents(m, ctx, scope, 'parent.id');
      return missingOrganizations(m, ctx, scope);
    },
    prune: (m, ctx, scope, w) => pruneOrganizations(m, ctx, scope, w),
  };
}

export const organizationsImporter: SubgraphImporter = {
  kind: 'organizations',
  description:
    'CSV or JSON (array or JSON Lines) of organizations: names, kind, country, parent, identifiers',
  params: [
    {
      name: 'dataset',
      description:
        'the dataset the records belong to (default: the file name without extension); --prune scope',
    },
    { name: 'source-url', description: "where the file is published (cited as the records' source URL)" },
    { name: 'license', description: 'the licence of the file (cited with the records)' },
  ],
  part: (params) => {
    if (params.dataset !== undefined && !params.dataset.trim())
      throw new Error('--dataset must not be empty');
    if (params.dataset && params.dataset.length > 191)
      throw new Error('--dataset must be at most 191 characters');
    return organizationsPart(params);
  },
};
