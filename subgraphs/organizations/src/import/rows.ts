import type { EntityManager } from 'typeorm';
import type { ImportContext, WriteContext } from '@civic/common/import/pipeline';
import {
  classify,
  digest,
  deleteWhereIn,
  insertRows,
  missingFromFile,
  missingKeys,
  PROVENANCE_COLUMNS,
  provenanceValues,
  upsertRows,
} from '@civic/common/import/write';
import { chunk } from '@civic/common/db';
import { removeDocuments } from '@civic/common/search';
import type { SourceAdjustment, WithProvenance } from '@civic/common/provenance';
import type { Organization } from '../entities/Organization';
import { indexOrganizations, ORGANIZATION_SEARCH_TYPE } from '../search';

/**
 * How the organization importers write what they read: one organization per row, its identifiers, and its
 * names in the search index, in the pipeline's transaction. Shared by `organizations` and `admin-divisions`.
 */

const ORGANIZATIONS = 'organizations';
const IDENTIFIERS = 'organization_identifiers';

/** The optional groups of columns a source may give; what it does not give is left as stored. */
export type OrganizationField = 'classification' | 'country' | 'parent' | 'ogp';

/** What one source record writes. */
export interface OrganizationRow {
  /** The whole organization, provenance included (fields the source does not give are null). */
  org: Organization;
  /** The optional fields the source gives; the others keep their stored value (null for a new row). */
  fields: readonly OrganizationField[];
  /** The identifiers the source gives; null when it says nothing of identifiers (they are left as stored). */
  identifiers: readonly { scheme: string; value: string }[] | null;
  /**
   * The schemes the source owns: only stored identifiers of these schemes are replaced (an admin-division file
   * owns `ma-commune`, not the OGP codes another file gave the same unit). Null: all of the organization's.
   */
  ownSchemes: readonly string[] | null;
}

/** Columns every write sets, then each optional field's. */
const BASE: readonly [string, keyof Organization][] = [
  ['id', 'id'],
  ['kind', 'kind'],
  ['name_ar', 'nameAr'],
  ['name_fr', 'nameFr'],
  ['name_en', 'nameEn'],
  ['name_es', 'nameEs'],
];
const FIELD_COLUMNS: Record<OrganizationField, readonly [string, keyof Organization][]> = {
  classification: [['classification', 'classification']],
  country: [['country', 'country']],
  parent: [['parent_id', 'parentId']],
  ogp: [
    ['ogp_membership_type', 'ogpMembershipType'],
    ['ogp_joined', 'ogpJoined'],
  ],
};
const ALL_FIELDS = Object.keys(FIELD_COLUMNS) as OrganizationField[];

function columnsFor(fields: readonly OrganizationField[]): [string, keyof Organization][] {
  return [...BASE, ...ALL_FIELDS.filter((f) => fields.includes(f)).flatMap((f) => FIELD_COLUMNS[f])];
}
const rowValues = (o: Organization, columns: readonly [string, keyof Organization][]) => [
  ...columns.map(([, p]) => o[p] ?? null),
  ...provenanceValues(o),
];

/** An organization's own columns, without where it came from. */
export type OrganizationContent = Omit<Organization, keyof WithProvenance>;

/**
 * The row a source record writes. The row digest covers the content, which fields the source gives and the
 * identifiers, never where it was read: the same record in another file (CSV or JSON) digests the same.
 * `adjustments`: the cells stored otherwise than written (kept in the provenance, covered by the digest).
 */
export function organizationRow(
  ctx: ImportContext,
  source: { dataset: string; url?: string | null; license?: string | null },
  line: number,
  record: string,
  content: OrganizationContent,
  fields: readonly OrganizationField[],
  identifiers: readonly { scheme: string; value: string }[] | null,
  ownSchemes: readonly string[] | null = null,
  adjustments: readonly SourceAdjustment[] = [],
): OrganizationRow {
  const o: Partial<Organization> = content;
  const d = digest({
    id: o.id,
    kind: o.kind,
    names: [o.nameAr, o.nameFr, o.nameEn, o.nameEs],
    fields: Object.fromEntries(
      ALL_FIELDS.filter((f) => fields.includes(f)).map((f) => [
        f,
        FIELD_COLUMNS[f].map(([, p]) => o[p] ?? null),
      ]),
    ),
    identifiers: identifiers?.map((i) => `${i.scheme}:${i.value}`).sort() ?? null,
  });
  const provenance = ctx.provenance(source, line, record, d, adjustments);
  return { org: { ...content, ...provenance }, fields, identifiers, ownSchemes };
}

/**
 * Writes a batch: new organizations inserted, changed ones updated (only the columns their source gives),
 * unchanged ones left alone; their identifiers brought to what the source says (only those that differ are
 * deleted or inserted); their names (re)indexed for search.
 */
export async function writeOrganizations(
  m: EntityManager,
  rows: OrganizationRow[],
  w: WriteContext,
): Promise<void> {
  const c = await classify(
    m,
    w,
    ORGANIZATIONS,
    'id',
    rows,
    (r) => r.org.id,
    (r) => r.org,
  );
  w.count(ORGANIZATIONS, 'unchanged', c.unchanged);
  const all = columnsFor(ALL_FIELDS);
  await insertRows(
    m,
    ORGANIZATIONS,
    [...all.map(([col]) => col), ...PROVENANCE_COLUMNS],
    c.fresh.map((r) => rowValues(r.org, all)),
  );
  w.count(ORGANIZATIONS, 'inserted', c.fresh.length);
  const bySignature = new Map<string, OrganizationRow[]>();
  for (const r of c.changed) {
    const sig = ALL_FIELDS.filter((f) => r.fields.includes(f)).join(',');
    const group = bySignature.get(sig);
    if (group) group.push(r);
    else bySignature.set(sig, [r]);
  }
  for (const group of bySignature.values()) {
    const cols = columnsFor(group[0].fields);
    await upsertRows(
      m,
      ORGANIZATIONS,
      [...cols.map(([col]) => col), ...PROVENANCE_COLUMNS],
      ['id'],
      group.map((r) => rowValues(r.org, cols)),
    );
  }
  w.count(ORGANIZATIONS, 'updated', c.changed.length);
  await writeIdentifiers(m, [...c.fresh, ...c.changed], w);
  const written = [...c.fresh, ...c.changed].map((r) => r.org);
  if (written.length) await indexOrganizations(m, written);
}

const idKey = (scheme: string, value: string) => `${scheme.toLowerCase()}\u0000${value.toLowerCase()}`;

/** Brings each row's identifiers (of its own schemes) to what its source says, touching only the differences. */
async function writeIdentifiers(m: EntityManager, rows: OrganizationRow[], w: WriteContext): Promise<void> {
  const given = rows.filter((r) => r.identifiers !== null);
  if (!given.length) return;
  const stored = new Map<string, { scheme: string; value: string }[]>();
  for (const part of chunk(
    given.map((r) => r.org.id),
    1000,
  )) {
    const found: { o: string; s: string; v: string }[] = await m.query(
      `SELECT organization_id AS o, scheme AS s, value AS v FROM ${IDENTIFIERS} WHERE organization_id IN (${part.map(() => '?').join(', ')})`,
      part,
    );
    for (const f of found) {
      const list = stored.get(String(f.o));
      if (list) list.push({ scheme: f.s, value: f.v });
      else stored.set(String(f.o), [{ scheme: f.s, value: f.v }]);
    }
  }
  const remove: [string, string, string][] = [];
  const add: [string, string, string][] = [];
  let same = 0;
  for (const r of given) {
    const own = (scheme: string) => r.ownSchemes === null || r.ownSchemes.includes(scheme);
    const before = (stored.get(r.org.id) ?? []).filter((i) => own(i.scheme));
    const exact = new Set(before.map((i) => `${i.scheme}\u0000${i.value}`));
    const now = new Set(r.identifiers!.map((i) => `${i.scheme}\u0000${i.value}`));
    for (const i of before)
      if (!now.has(`${i.scheme}\u0000${i.value}`)) remove.push([r.org.id, i.scheme, i.value]);
    for (const i of r.identifiers!) {
      if (exact.has(`${i.scheme}\u0000${i.value}`)) same += 1;
      else add.push([r.org.id, i.scheme, i.value]);
    }
  }
  for (const part of chunk(remove, 300))
    await m.query(
      `DELETE FROM ${IDENTIFIERS} WHERE ${part.map(() => '(organization_id = ? AND scheme = ? AND value = ?)').join(' OR ')}`,
      part.flat(),
    );
  await insertRows(m, IDENTIFIERS, ['organization_id', 'scheme', 'value'], add);
  w.count(IDENTIFIERS, 'deleted', remove.length);
  w.count(IDENTIFIERS, 'inserted', add.length);
  w.count(IDENTIFIERS, 'unchanged', same);
}

/** Identifiers as a source gives them, without repeats (compared as MySQL compares them: case aside). */
export function uniqueIdentifiers<T extends { scheme: string; value: string }>(list: readonly T[]): T[] {
  const seen = new Set<string>();
  return list.filter((i) => {
    const k = idKey(i.scheme, i.value);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const DATASET_SQL = 'source_dataset = ?';

/** The organizations of a dataset that this file did not write: what it no longer has. */
export const missingOrganizations = (m: EntityManager, ctx: ImportContext, dataset: string) =>
  missingFromFile(m, ctx, ORGANIZATIONS, 'id', DATASET_SQL, [dataset]);

/** Deletes them (--prune), with their identifiers and search documents. */
export async function pruneOrganizations(
  m: EntityManager,
  ctx: ImportContext,
  dataset: string,
  w: WriteContext,
): Promise<void> {
  for await (const keys of missingKeys(m, ctx, ORGANIZATIONS, 'id', DATASET_SQL, [dataset])) {
    await deleteWhereIn(m, IDENTIFIERS, 'organization_id', keys);
    await deleteWhereIn(m, ORGANIZATIONS, 'id', keys);
    await removeDocuments(m, ORGANIZATION_SEARCH_TYPE, keys);
    // Only the organizations are counted: the pipeline reports every deleted row as a pruned record.
    w.count(ORGANIZATIONS, 'deleted', keys.length);
  }
}

/** The most dangling parents reported one by one (a count says how many more). */
const MAX_PARENT_WARNINGS = 1000;

/**
 * Warns about the organizations this file wrote whose parent is neither in the file nor stored: kept (the
 * parent may be imported later), but said. Run after the whole file is written, so a parent further down
 * the file is found.
 */
export async function warnMissingParents(
  m: EntityManager,
  ctx: ImportContext,
  dataset: string,
  column: string,
): Promise<void> {
  const where = 'o.source_checksum = ? AND o.source_dataset = ? AND o.parent_id IS NOT NULL AND p.id IS NULL';
  const rows: { id: string; parent: string; line: number | string | null }[] = await m.query(
    `SELECT o.id AS id, o.parent_id AS parent, o.source_line AS line FROM ${ORGANIZATIONS} o ` +
      `LEFT JOIN ${ORGANIZATIONS} p ON p.id = o.parent_id WHERE ${where} ORDER BY o.source_line LIMIT ${MAX_PARENT_WARNINGS + 1}`,
    [ctx.facts.checksum, dataset],
  );
  for (const r of rows.slice(0, MAX_PARENT_WARNINGS))
    ctx.warn(
      ctx.issue(
        r.line === null ? null : Number(r.line),
        column,
        r.parent,
        `parent "${r.parent}" of ${r.id} is neither in this file nor stored: kept (it may be imported later)`,
      ),
    );
  if (rows.length > MAX_PARENT_WARNINGS) {
    const [{ n }] = await m.query(
      `SELECT COUNT(*) AS n FROM ${ORGANIZATIONS} o LEFT JOIN ${ORGANIZATIONS} p ON p.id = o.parent_id WHERE ${where}`,
      [ctx.facts.checksum, dataset],
    );
    ctx.warn(
      ctx.issue(
        null,
        column,
        null,
        `${Number(n) - MAX_PARENT_WARNINGS} more organizations have a parent that is not stored`,
      ),
    );
  }
}
