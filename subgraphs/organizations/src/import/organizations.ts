import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { normalizeHeader, readCsv, type CsvColumn, type CsvLayout } from '@civic/common/import/csv';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import { LANGUAGES, type Language } from '@civic/common/localized';
import { readJsonRecords } from './json';
import {
  hasOgpColumns,
  readClassification,
  readCountry,
  readId,
  readKind,
  readOgp,
  readParent,
  readRecordNames,
} from './organization-fields';
import { readIdentifiers } from './organization-identifiers';
import { recordReader, type OrganizationSource, type RecordReader } from './organization-record';
import {
  missingOrganizations,
  organizationRow,
  pruneOrganizations,
  warnMissingParents,
  writeOrganizations,
  type OrganizationField,
  type OrganizationRow,
} from './rows';

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

/** The fields a record sets: those whose columns it has (even empty); the others are left as stored. */
function fieldsOf(r: RecordReader): OrganizationField[] {
  const fields: OrganizationField[] = [];
  if (r.has('classification')) fields.push('classification');
  if (r.has('country')) fields.push('country');
  if (r.has('parent.id')) fields.push('parent');
  if (hasOgpColumns(r)) fields.push('ogp');
  return fields;
}

/**
 * Validates one record into the row it writes, or refuses it with every problem it has (each with its column
 * and value). Fields the source does not have are left as stored. The fields are read in a fixed order,
 * which is the order of the record's issues.
 */
function validate(
  src: OrganizationSource,
  line: number,
  ctx: ImportContext,
  source: { dataset: string; url: string | null; license: string | null },
): OrganizationRow | null {
  const r = recordReader(src, line, ctx);
  const names = readRecordNames(r);
  const kind = readKind(r);
  const country = readCountry(r);
  const id = readId(r, names, country);
  const classification = readClassification(r);
  const parentId = readParent(r, id);
  const identifiers = readIdentifiers(r);
  const ogp = readOgp(r);
  if (r.issues.length || !id || !kind) {
    ctx.refuse(r.issues);
    return null;
  }
  const content = {
    id,
    kind,
    classification,
    country,
    parentId,
    ...names,
    ogpMembershipType: ogp?.type ?? null,
    ogpJoined: ogp?.joined ?? null,
  };
  // Adjustments cite the column as the source names it (`name_fr`), not its canonical name (`names.fr`).
  const adjustments = r.adjustments.list.map((a) => ({ ...a, column: r.label(a.column) }));
  return organizationRow(ctx, source, line, id, content, fieldsOf(r), identifiers, null, adjustments);
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
