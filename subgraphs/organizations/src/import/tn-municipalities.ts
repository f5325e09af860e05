import { readCsv } from '@civic/common/import/csv';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import { SOURCES } from '@civic/formats/sources';
import type { Warn } from './names';
import {
  missingOrganizations,
  organizationRow,
  pruneOrganizations,
  writeOrganizations,
  type OrganizationRow,
} from './rows';
import {
  MUNICIPALITY_COLUMNS,
  governorateAdjustments,
  governorateContent,
  governorateOf,
  governoratesByCodePrefix,
  municipalityContent,
  readMunicipality,
  sharedFrenchNames,
  type Municipality,
  type PrefixGovernorate,
} from './tunisia-municipalities';

/**
 * The `tn-municipalities` import kind: Tunisia's municipalities and their governorates, in the layout of
 * data/datasets/tunisia/municipalities.csv (what a row becomes, and why the parent comes from the code, is
 * ./tunisia-municipalities.ts's). The seed imports that file. Every record cites the dataset "Tunisian
 * municipalities", the file, its checksum and the line (a governorate: the line of the first municipality
 * naming it); importing the file again changes nothing, a newer one updates the rows in place and its
 * missing municipalities are reported (deleted with --prune).
 *
 * A municipality's parent depends on the whole file (the governorate most rows of its code prefix name), so
 * the file, small, is read whole before its first record is validated.
 */
export const TN_MUNICIPALITIES = 'tn-municipalities';

const SOURCE = SOURCES.tunisiaMunicipalities;
/** Only the columns this file gives are written: OGP membership is another file's to say. */
const FIELDS = ['classification', 'country', 'parent'] as const;
const SCHEME = 'tn-municipality';

/** What a row writes: its municipality, preceded by its governorate the first time one names it. */
export interface MunicipalityGroup {
  key: string;
  rows: OrganizationRow[];
}

type Cells = Record<string, string>;

/** The file's rows as the seed of the parents sees them: the valid ones, first of each code, read silently. */
function validRows(records: readonly SourceRow<Cells>[]): Municipality[] {
  const seen = new Set<string>();
  const silent: Warn = () => undefined;
  const out: Municipality[] = [];
  for (const r of records) {
    const m = readMunicipality(r.data, r.line, silent);
    if ('reason' in m || seen.has(m.code)) continue;
    seen.add(m.code);
    out.push(m);
  }
  return out;
}

/** Builds the part; one per run. */
export function tnMunicipalitiesPart(): ImporterPart<Cells, MunicipalityGroup> {
  let byPrefix = new Map<string, PrefixGovernorate>();
  let firstLine = new Map<string, number>();
  let governorates = new Set<string>();

  function validate(row: SourceRow<Cells>, ctx: ImportContext): MunicipalityGroup | null {
    const warn: Warn = (field, message) => ctx.warn(ctx.issue(row.line, field, null, message));
    const m = readMunicipality(row.data, row.line, warn);
    if ('reason' in m) {
      ctx.refuse([ctx.issue(row.line, m.column, row.data[m.column] ?? null, m.reason)]);
      return null;
    }
    const seen = firstLine.get(m.code);
    if (seen !== undefined) {
      const reason = `duplicate municipal_id ${m.code} (line ${row.line}; first at line ${seen})`;
      ctx.refuse([ctx.issue(row.line, 'municipal_id', m.code, reason)]);
      return null;
    }
    firstLine.set(m.code, row.line);
    const governorate = governorateOf(m, byPrefix, warn);
    const rows: OrganizationRow[] = [];
    if (governorate && !governorates.has(governorate)) {
      governorates.add(governorate);
      const content = governorateContent(governorate);
      const record = `state=${governorate}`;
      const adjusted = governorateAdjustments(m, governorate);
      rows.push(organizationRow(ctx, SOURCE, row.line, record, content, FIELDS, null, null, adjusted));
    }
    const content = municipalityContent(m, governorate);
    const identifiers = [{ scheme: SCHEME, value: m.code }];
    rows.push(
      organizationRow(ctx, SOURCE, row.line, m.code, content, FIELDS, identifiers, [SCHEME], m.adjustments),
    );
    return { key: content.id, rows };
  }

  return {
    importer: TN_MUNICIPALITIES,
    subgraph: 'organizations',
    scope: () => SOURCE.dataset,
    async *read(ctx) {
      const records: SourceRow<Cells>[] = [];
      const layout = { columns: MUNICIPALITY_COLUMNS };
      for await (const r of readCsv(ctx.path, ctx.file, ctx.facts, layout, ctx))
        records.push({ line: r.line, data: r.values });
      const valid = validRows(records);
      byPrefix = governoratesByCodePrefix(valid);
      firstLine = new Map();
      governorates = new Set();
      yield* records;
      for (const w of sharedFrenchNames(valid)) ctx.warn(ctx.issue(w.line, 'name', null, w.message));
    },
    validate,
    key: (g) => g.key,
    write: (m, groups, w) =>
      writeOrganizations(
        m,
        groups.flatMap((g) => g.rows),
        w,
      ),
    missing: (m, ctx) => missingOrganizations(m, ctx, SOURCE.dataset),
    prune: (m, ctx, _scope, w) => pruneOrganizations(m, ctx, SOURCE.dataset, w),
  };
}

/** The `tn-municipalities` kind of `npm run import`. */
export const tnMunicipalitiesImporter: SubgraphImporter = {
  kind: TN_MUNICIPALITIES,
  description:
    "Tunisia's municipalities and their governorates (CSV of data/datasets/tunisia/municipalities.csv)",
  part: () => tnMunicipalitiesPart(),
};
