import { In, type EntityManager } from 'typeorm';
import {
  ogpLocalSource,
  readOgpLocalRecords,
  validateOgpLocalRecord,
  type OgpLocalEntry,
  type OgpLocalRecord,
} from '@civic/formats/ogp-export';
import { chunk } from '@civic/common/db';
import { writeEntities } from '@civic/common/import/derived';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow, WriteContext } from '@civic/common/import/pipeline';
import { digest, insertRows, missingFromFile } from '@civic/common/import/write';
import { localGovernmentId, localOrganizationId } from '@civic/formats/keys';
import type { WithProvenance } from '@civic/common/provenance';
import { SOURCES } from '@civic/formats/sources';
import { OrganizationEntity, type Organization } from '../entities/Organization';
import { indexOrganizations } from '../search';
import { classifyNamed, names, warnDescribedElsewhere } from './ogp-organizations';

/** The import kind of the OGP Local members file, and the importer name its runs are recorded under. */
export const OGP_LOCAL_KIND = 'ogp-local';

const SOURCE = SOURCES.ogpLocal;

/** An organization a record describes; `member` when it is an administrative unit another file describes. */
interface LocalOrganization {
  organization: Organization;
  identifiers: readonly { scheme: string; value: string }[];
  member: boolean;
}

/** One record of the file as this subgraph writes it. */
export interface OgpLocalOrganizationsRow {
  key: string;
  named: LocalOrganization[];
}

type Content = Omit<Organization, keyof WithProvenance>;

/** Content plus the import provenance of `record` at `line`, citing the source the record names. */
function described(
  ctx: ImportContext,
  line: number,
  r: OgpLocalRecord,
  sourceKey: string | undefined,
  record: string,
  content: Content,
  identifiers: LocalOrganization['identifiers'] = [],
): Omit<LocalOrganization, 'member'> {
  const source = ogpLocalSource(SOURCE, r.sources, sourceKey);
  return {
    organization: { ...content, ...ctx.provenance(source, line, record, digest([content, identifiers])) },
    identifiers,
  };
}

/**
 * What a member record says: the administrative unit it is (its OGP membership, names and identifiers) and its
 * governing body (the regional or municipal council, child of the unit).
 */
function memberOrganizations(
  ctx: ImportContext,
  line: number,
  r: OgpLocalRecord & { kind: 'member' },
): LocalOrganization[] {
  const m = r.record;
  const unit = described(
    ctx,
    line,
    r,
    m.ogp.source,
    m.key,
    {
      id: r.id,
      kind: 'GOVERNMENT',
      classification: m.level,
      country: m.country,
      parentId: null,
      ...names(m.names),
      ogpMembershipType: m.ogp.type,
      ogpJoined: m.ogp.joined ?? null,
    },
    (m.identifiers ?? []).map(({ scheme, value }) => ({ scheme, value })),
  );
  const out: LocalOrganization[] = [{ ...unit, member: true }];
  if (m.government) {
    const classification =
      m.level === 'region' ? 'regional council' : m.level === 'municipality' ? 'municipal council' : null;
    const government = described(ctx, line, r, m.ogp.source, `${m.key}.government`, {
      id: localGovernmentId(m.key),
      kind: m.government.kind,
      classification,
      country: m.country,
      parentId: r.id,
      ...names(m.government.names),
      ogpMembershipType: null,
      ogpJoined: null,
    });
    out.push({ ...government, member: false });
  }
  return out;
}

/** What an organization record says (the file does not classify them further). */
function describedOrganization(
  ctx: ImportContext,
  line: number,
  r: OgpLocalRecord & { kind: 'organization' },
): LocalOrganization {
  const o = r.record;
  const org = described(ctx, line, r, o.source, o.key, {
    id: localOrganizationId(o.key),
    kind: o.kind,
    classification: null,
    country: o.country ?? null,
    parentId: null,
    ...names(o.names),
    ogpMembershipType: null,
    ogpJoined: null,
  });
  return { ...org, member: false };
}

/** Columns a member record fills in on a unit another file describes, when that file left them null. */
const FILLED: readonly [string, keyof Organization][] = [
  ['classification', 'classification'],
  ['country', 'country'],
  ['name_ar', 'nameAr'],
  ['name_fr', 'nameFr'],
  ['name_en', 'nameEn'],
  ['name_es', 'nameEs'],
];
/** Columns a member record always sets: its OGP membership is this file's to say. */
const OWNED: readonly [string, keyof Organization][] = [
  ['ogp_membership_type', 'ogpMembershipType'],
  ['ogp_joined', 'ogpJoined'],
];

/**
 * Members that are units another dataset describes (the admin-division import's region or municipality): the
 * unit keeps its record and provenance; the member record sets its OGP membership and fills in the columns
 * the unit's own file left null (as the seed's merge did). Counted as updated when anything changed.
 */
async function enrichUnits(
  m: EntityManager,
  w: WriteContext,
  members: readonly LocalOrganization[],
): Promise<void> {
  if (!members.length) return;
  const stored = new Map(
    (await m.getRepository(OrganizationEntity).findBy({ id: In(members.map((x) => x.organization.id)) })).map(
      (o) => [o.id, o],
    ),
  );
  const changed: string[] = [];
  for (const { organization: mine } of members) {
    const unit = stored.get(mine.id)!;
    const set: [string, unknown][] = [];
    for (const [column, p] of FILLED) if (unit[p] == null && mine[p] != null) set.push([column, mine[p]]);
    for (const [column, p] of OWNED)
      if ((unit[p] ?? null) !== (mine[p] ?? null)) set.push([column, mine[p] ?? null]);
    if (!set.length) continue;
    await m.query(`UPDATE organizations SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`, [
      ...set.map(([, v]) => v),
      mine.id,
    ]);
    changed.push(mine.id);
  }
  if (changed.length) {
    w.count('organizations', 'updated', changed.length);
    await indexOrganizations(m, await m.getRepository(OrganizationEntity).findBy({ id: In(changed) }));
  }
  if (members.length - changed.length) w.count('organizations', 'unchanged', members.length - changed.length);
}

/** Adds the identifiers the file gives that are not stored yet; never removes one (other files give them too). */
async function addIdentifiers(
  m: EntityManager,
  w: WriteContext,
  written: readonly LocalOrganization[],
): Promise<void> {
  const wanted = written.flatMap((n) =>
    n.identifiers.map((i) => [n.organization.id, i.scheme, i.value] as const),
  );
  if (!wanted.length) return;
  const stored = new Set<string>();
  for (const part of chunk([...new Set(wanted.map(([id]) => id))], 1000)) {
    const found: { o: string; s: string; v: string }[] = await m.query(
      `SELECT organization_id AS o, scheme AS s, value AS v FROM organization_identifiers WHERE organization_id IN (${part.map(() => '?').join(', ')})`,
      part,
    );
    for (const f of found) stored.add(`${f.o}\u0000${f.s}\u0000${f.v}`);
  }
  const add = wanted.filter((i) => !stored.has(i.join('\u0000')));
  await insertRows(
    m,
    'organization_identifiers',
    ['organization_id', 'scheme', 'value'],
    add.map((i) => [...i]),
  );
  if (add.length) w.count('organization_identifiers', 'inserted', add.length);
  if (wanted.length - add.length)
    w.count('organization_identifiers', 'unchanged', wanted.length - add.length);
}

/** Writes a batch: the file's own organizations, then the units its members enrich, then identifiers and index. */
async function writeLocal(
  m: EntityManager,
  rows: readonly OgpLocalOrganizationsRow[],
  w: WriteContext,
): Promise<void> {
  const c = await classifyNamed(
    m,
    w,
    rows.flatMap((r) => r.named),
  );
  const foreignMembers = c.foreign.filter((f) => f.row.member).map((f) => f.row);
  for (const f of c.foreign.filter((x) => !x.row.member))
    warnDescribedElsewhere(w, f.row.organization, f.dataset);
  for (const e of c.earlier)
    w.ctx.warn(
      w.ctx.issue(
        e.row.organization.sourceLine,
        null,
        e.row.organization.id,
        `organization ${e.row.organization.id} is already described on line ${e.line}: left as it is`,
      ),
    );
  await writeEntities(m, w, OrganizationEntity, {
    fresh: c.fresh.map((n) => n.organization),
    changed: c.changed.map((n) => n.organization),
    unchanged: c.unchanged,
  });
  await enrichUnits(m, w, foreignMembers);
  const written = [...c.fresh, ...c.changed];
  await addIdentifiers(m, w, [...written, ...foreignMembers]);
  if (written.length)
    await indexOrganizations(
      m,
      written.map((n) => n.organization),
    );
}

/**
 * The organizations subgraph's part of the `ogp-local` import: each member's administrative unit (enriched
 * with its OGP membership when the admin-division import describes it, created otherwise), its governing body
 * (`org-el-kef-government`) and the organizations the file describes (`org-ndi`). Idempotent: a re-import
 * finds everything unchanged. Missing organizations (of the file's dataset, in no record of this file) are
 * reported, never pruned: action plans and commitments may refer to them by key.
 */
export function ogpLocalOrganizationsPart(): ImporterPart<OgpLocalEntry, OgpLocalOrganizationsRow> {
  return {
    importer: OGP_LOCAL_KIND,
    subgraph: 'organizations',
    scope: () => '',
    read: (ctx) => readOgpLocalRecords(ctx),
    validate(row: SourceRow<OgpLocalEntry>, ctx) {
      const r = validateOgpLocalRecord(row, ctx);
      if (!r) return null;
      const named =
        r.kind === 'member'
          ? memberOrganizations(ctx, row.line, r)
          : [describedOrganization(ctx, row.line, r)];
      return { key: `${row.data.list}/${r.key}`, named };
    },
    key: (r) => r.key,
    write: (m, rows, w) => writeLocal(m, rows, w),
    missing: (m, ctx) =>
      missingFromFile(m, ctx, 'organizations', 'id', 'source_dataset = ?', [SOURCE.dataset]),
  };
}

/** The `ogp-local` kind as `npm run import` and the seed see it in this subgraph. */
export const ogpLocalImporter: SubgraphImporter = {
  kind: OGP_LOCAL_KIND,
  description:
    'the OGP Local members file (JSON of data/datasets/ogp-local): members (administrative units), their councils, action plans and commitments, and the organizations it describes',
  part: () => ogpLocalOrganizationsPart(),
};
