import type { EntityManager } from 'typeorm';
import {
  OGP_COLUMNS,
  OgpIdentifiers,
  readOgpExportRecords,
  validateOgpRecord,
} from '@civic/formats/ogp-export';
import { chunk, placeholders } from '@civic/common/db';
import { quoteName } from '@civic/common/dialect';
import { writeEntities } from '@civic/common/import/derived';
import type { ImporterPart, WriteContext } from '@civic/common/import/pipeline';
import { digest, insertRows, missingFromFile } from '@civic/common/import/write';
import { SOURCES } from '@civic/formats/sources';
import { OrganizationEntity, type Organization } from '../entities/Organization';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';
import { indexOrganizations } from '../search';
import {
  classifyNamed,
  warnDescribedElsewhere,
  EXPORT_IDENTIFIER_SCHEMES,
  EXPORT_ORGANIZATION_COLUMNS,
  exportInstitution,
  exportMemberCaveat,
  exportMemberIdentifiers,
  exportMemberOrganization,
} from './ogp-organizations';

const SOURCE = SOURCES.ogpCommitments;

type Cells = Record<string, string>;

/** An organization a row names (its member, lead or a supporter), with the identifiers the export gives it. */
interface NamedOrganization {
  organization: Organization;
  identifiers: OrganizationIdentifier[];
}

/** One row of the export as this subgraph sees it: the organizations it names, member first. */
export interface OrganizationsImportRow {
  commitmentId: string;
  named: NamedOrganization[];
}

const identifierKey = (i: OrganizationIdentifier) => `${i.organizationId}\u0000${i.scheme}\u0000${i.value}`;

/**
 * Brings the export's identifiers (OGP member code, ISO 3166-1 alpha-2) of these organizations to what the
 * file gives them; identifiers of other schemes (another dataset's) are left alone.
 */
async function syncIdentifiers(
  m: EntityManager,
  w: WriteContext,
  organizationIds: readonly string[],
  wanted: readonly OrganizationIdentifier[],
): Promise<void> {
  if (!organizationIds.length) return;
  const stored = new Set<string>();
  const schemes = [...EXPORT_IDENTIFIER_SCHEMES];
  for (const part of chunk(organizationIds, 1000)) {
    const found: { organization_id: string; scheme: string; value: string }[] = await m.query(
      `SELECT organization_id, scheme, value FROM organization_identifiers ` +
        `WHERE organization_id IN (${placeholders(part.length)}) AND scheme IN (${placeholders(schemes.length)})`,
      [...part, ...schemes],
    );
    for (const f of found)
      stored.add(identifierKey({ organizationId: f.organization_id, scheme: f.scheme, value: f.value }));
  }
  const want = new Set(wanted.map(identifierKey));
  const insert = wanted.filter((i) => !stored.has(identifierKey(i)));
  const remove = [...stored].filter((k) => !want.has(k)).map((k) => k.split('\u0000'));
  await insertRows(
    m,
    'organization_identifiers',
    ['organization_id', 'scheme', 'value'],
    insert.map((i) => [i.organizationId, i.scheme, i.value]),
  );
  const t = quoteName(m, 'organization_identifiers');
  for (const part of chunk(remove, 300))
    await m.query(
      `DELETE FROM ${t} WHERE ${part.map(() => '(organization_id = ? AND scheme = ? AND value = ?)').join(' OR ')}`,
      part.flat(),
    );
  if (insert.length) w.count('organization_identifiers', 'inserted', insert.length);
  if (remove.length) w.count('organization_identifiers', 'deleted', remove.length);
  const unchanged = wanted.length - insert.length;
  if (unchanged) w.count('organization_identifiers', 'unchanged', unchanged);
}

/**
 * Writes a batch: each organization from the first row naming it, those another dataset describes left as
 * they are (reported once each, `foreign` remembering which were), then their identifiers and search names.
 */
async function writeNamed(
  m: EntityManager,
  rows: OrganizationsImportRow[],
  w: WriteContext,
  foreign: Set<string>,
): Promise<void> {
  const c = await classifyNamed(
    m,
    w,
    rows.flatMap((r) => r.named),
  );
  for (const f of c.foreign) {
    if (foreign.has(f.row.organization.id)) continue;
    foreign.add(f.row.organization.id);
    warnDescribedElsewhere(w, f.row.organization, f.dataset);
  }
  await writeEntities(m, w, OrganizationEntity, {
    fresh: c.fresh.map((n) => n.organization),
    changed: c.changed.map((n) => n.organization),
    unchanged: c.unchanged,
  });
  const written = [...c.fresh, ...c.changed];
  await syncIdentifiers(
    m,
    w,
    written.map((n) => n.organization.id),
    written.flatMap((n) => n.identifiers),
  );
  await indexOrganizations(
    m,
    written.map((n) => n.organization),
  );
}

/**
 * The organizations subgraph's part of the `ogp-commitments` import: the OGP members (`gov-ma`,
 * `ogp-local-ngkd`) and the lead and supporting institutions (`inst-ma-…`) the export names, by the stable
 * keys the commitments subgraph refers to them by (formats/keys.ts). Each is derived from the first row
 * naming it, as the seed does, so a re-import finds it unchanged whichever batch its rows fall in.
 * Organizations another dataset describes are left as they are. Missing organizations (of the export's
 * dataset, named by no row of this file) are reported, never pruned: the commitments and budgets subgraphs
 * may refer to them by key, and this subgraph cannot see their tables.
 */
export function ogpOrganizationsPart(): ImporterPart<Cells, OrganizationsImportRow> {
  let ids = new OgpIdentifiers();
  /** Members already warned about (once per member, on the first row naming it, as the seed does). */
  let cautioned = new Set<string>();
  /** Organizations of another dataset already reported (once each). */
  let foreign = new Set<string>();

  return {
    importer: 'ogp-commitments',
    subgraph: 'organizations',
    scope: () => '',

    async *read(ctx) {
      ids = new OgpIdentifiers();
      cautioned = new Set();
      foreign = new Set();
      yield* readOgpExportRecords(ctx, ids);
    },

    validate(row, ctx) {
      const r = validateOgpRecord(
        row.line,
        row.data,
        ctx,
        (c) => c !== null && EXPORT_ORGANIZATION_COLUMNS.has(c),
      );
      if (!r) {
        ids.refused(row.data);
        return null;
      }
      if (!ids.accept(r.id, row.line, ctx)) return null;
      const m = r.member;
      const caveat = exportMemberCaveat(m);
      if (caveat && !cautioned.has(m.id)) {
        cautioned.add(m.id);
        ctx.warn(ctx.issue(row.line, OGP_COLUMNS.nationalOrLocal, m.rawType, caveat));
      }
      const memberContent = exportMemberOrganization(m);
      const memberIdentifiers = exportMemberIdentifiers(m);
      const named: NamedOrganization[] = [
        {
          organization: {
            ...memberContent,
            ...ctx.provenance(SOURCE, row.line, r.id, digest([memberContent, memberIdentifiers, r.id])),
          },
          identifiers: memberIdentifiers,
        },
      ];
      // Every lead the lead cell names (not only the first), then the supporters.
      for (const inst of [...r.leads, ...r.supporters]) {
        const content = exportInstitution(inst, m.country);
        named.push({
          organization: { ...content, ...ctx.provenance(SOURCE, row.line, r.id, digest([content, r.id])) },
          identifiers: [],
        });
      }
      return { commitmentId: r.id, named };
    },

    key: (r) => r.commitmentId,

    write: (m, rows, w) => writeNamed(m, rows, w, foreign),

    async missing(m, ctx) {
      const missing = await missingFromFile(m, ctx, 'organizations', 'id', 'source_dataset = ?', [
        SOURCE.dataset,
      ]);
      if (missing.count && ctx.options.prune)
        ctx.warn(
          ctx.issue(
            null,
            null,
            null,
            `${missing.count} organizations of "${SOURCE.dataset}" are named by no row of this file; --prune does not ` +
              'remove organizations (commitments and budgets may refer to them by key, and this subgraph cannot see them)',
          ),
        );
      return missing;
    },
  };
}
