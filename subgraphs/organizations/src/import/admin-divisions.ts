import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { FileRefused } from '@civic/common/import/csv';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import {
  asRecord,
  buildMoroccoUnit,
  MOROCCO_LEVELS,
  moroccoSourceId,
  NO_NAME,
  probableDuplicates,
  readMoroccoUnit,
  type MoroccoLevel,
} from './morocco';
import type { Warn } from './names';
import { readJsonRecords } from './json';
import {
  missingOrganizations,
  organizationRow,
  pruneOrganizations,
  warnMissingParents,
  writeOrganizations,
  type OrganizationRow,
} from './rows';
import { parseKey } from './values';

/**
 * The `admin-divisions` import kind: Morocco's regions, provinces and prefectures, and communes, in the JSON
 * layout of data/datasets/morocco (regions.json, region-divisions.json, communes.json; the seed imports those
 * three, in that order). What a record becomes is ./morocco.ts's (ids ma-region-01, ma-division-001,
 * ma-commune-0001; the level's dataset name): importing a newer file over the seeded database updates the
 * seeded rows in place. The file's level comes from its records' key
 * (`{ "communes": [...] }`), else from its name, else from its records' parent field.
 */

const LEVELS = Object.values(MOROCCO_LEVELS);

/**
 * The level of a file: the key of its records' array if the file has one, else its name (communes*.json,
 * *divisions*, provinces*, prefectures*, regions*), else a parent field in its first record; null when
 * nothing says.
 */
export function levelOf(path: string): MoroccoLevel | null {
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(1 << 16);
    text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
  const key = /"(regions|region_divisions|communes)"\s*:\s*\[/.exec(text)?.[1];
  if (key) return LEVELS.find((l) => l.key === key)!;
  const name = basename(path).toLowerCase();
  if (/commune/.test(name)) return MOROCCO_LEVELS.commune;
  if (/division|province|prefecture/.test(name)) return MOROCCO_LEVELS.division;
  if (/region/.test(name)) return MOROCCO_LEVELS.region;
  if (/"region_division_id"\s*:/.test(text)) return MOROCCO_LEVELS.commune;
  if (/"region_id"\s*:/.test(text)) return MOROCCO_LEVELS.division;
  if (/^\s*(\uFEFF)?\s*\[/.test(text)) return MOROCCO_LEVELS.region;
  return null;
}

/** The `admin-divisions` part: one file, one level. */
export function adminDivisionsPart(): ImporterPart<unknown, OrganizationRow> {
  let known: { path: string; level: MoroccoLevel | null } | null = null;
  let duplicates: ReturnType<typeof probableDuplicates> = () => undefined;
  const levelFor = (ctx: ImportContext) => {
    if (known?.path !== ctx.path) known = { path: ctx.path, level: levelOf(ctx.path) };
    return known.level;
  };

  function validate(row: SourceRow<unknown>, ctx: ImportContext): OrganizationRow | null {
    const l = levelFor(ctx)!;
    const refuse = (column: string | null, value: unknown, reason: string) => {
      ctx.refuse([ctx.issue(row.line, column, value, reason)]);
      return null;
    };
    if (!row.data || typeof row.data !== 'object' || Array.isArray(row.data))
      return refuse(null, JSON.stringify(row.data), 'a record must be a JSON object');
    const raw = asRecord(row.data);
    const id = moroccoSourceId(raw);
    if (!id) return refuse('id', raw.id === undefined ? null : JSON.stringify(raw.id), 'no id');
    const key = parseKey(l.toId(id));
    if ('problem' in key) return refuse('id', id, `id: ${key.problem}`);
    const warn: Warn = (field, message) => ctx.warn(ctx.issue(row.line, field, null, message));
    const unit = readMoroccoUnit(raw, id, warn);
    if (!unit) return refuse('name', null, NO_NAME);
    duplicates(unit, warn);
    const { organization: o, identifier } = buildMoroccoUnit(l, unit, warn);
    return organizationRow(
      ctx,
      l.source,
      row.line,
      // The source id, as the record cites it (REGION_01).
      id,
      o,
      // OGP membership is another file's to say (the OGP Local members make Béni Mellal-Khénifra a member).
      ['classification', 'country', 'parent'],
      [{ scheme: identifier.scheme, value: identifier.value }],
      [l.scheme],
      unit.adjustments,
    );
  }

  return {
    importer: 'admin-divisions',
    subgraph: 'organizations',
    // The level's dataset, as the seed names it: the records the seed loaded from the same file are in scope.
    scope: (ctx) => levelFor(ctx)?.source.dataset ?? '',
    async *read(ctx) {
      const l = levelFor(ctx);
      if (!l)
        throw new FileRefused({
          line: null,
          column: null,
          value: null,
          reason:
            'cannot tell the level: expected { "regions": [...] }, { "region_divisions": [...] } or { "communes": [...] }, or a file named regions.json, region-divisions.json or communes.json',
        });
      duplicates = probableDuplicates(l);
      for await (const r of readJsonRecords(ctx.path, ctx.file, ctx.facts, { arrayKeys: [l.key] }, ctx))
        yield { line: r.line, data: r.value };
    },
    validate,
    key: (r) => r.org.id,
    write: (m, rows, w) => writeOrganizations(m, rows, w),
    async missing(m, ctx, scope) {
      const l = levelFor(ctx);
      if (l?.parentField) await warnMissingParents(m, ctx, scope, l.parentField);
      return missingOrganizations(m, ctx, scope);
    },
    prune: (m, ctx, scope, w) => pruneOrganizations(m, ctx, scope, w),
  };
}

export const adminDivisionsImporter: SubgraphImporter = {
  kind: 'admin-divisions',
  description: "Morocco's regions, provinces/prefectures or communes (JSON of data/datasets/morocco)",
  part: () => adminDivisionsPart(),
};
