import { SourceAdjustments } from '@civic/common/import/adjust';
import type { CsvColumn } from '@civic/common/import/csv';
import type { SourceAdjustment } from '@civic/common/provenance';
import { tunisiaGovernorateId, tunisiaMunicipalityId } from '@civic/formats/keys';
import { cleanName, type Warn } from './names';
import type { OrganizationContent } from './rows';

/*
 * Tunisia's municipalities as data/datasets/tunisia/municipalities.csv lays them out (Onshor's
 * ODMunicipalityTools, clean_mun_final.csv): `municipal_id` (the official 5-digit code), `name` (French),
 * `name_ar`, `state` (the governorate, "Gouvernorat de …" at times), `lat`, `lng`. What a row becomes: a
 * municipality, and one governorate per distinct governorate name (the file has no other record of them).
 *
 * The file's `state` column is wrong for a few rows (Radès and Mégrine under Tunis instead of Ben Arous,
 * Manouba and Den Den under Tunis instead of La Manouba, Touiref 33022 under Tunis instead of Kef, El Ksar
 * 71018 under Tunis instead of Gafsa, Ouled Chamekh and Hbira 53021/53022 under Kairouan instead of Mahdia):
 * it came from geocoding, like some French names. The official municipal code's first two digits are the
 * governorate's code, and in this same file each prefix belongs to one governorate in all other rows. So the
 * parent is the governorate of the code's prefix (its most common `state`, when that is a clear majority),
 * and every row whose `state` disagrees is reported. Governorates get only the French name the file gives:
 * it has no Arabic name for them, and none is invented.
 */

/** The file's columns; the coordinates are read but not stored (no column holds them). */
export const MUNICIPALITY_COLUMNS: readonly CsvColumn[] = [
  { name: 'municipal_id', required: true },
  { name: 'name', required: true },
  { name: 'name_ar', required: true },
  { name: 'state', required: true },
  { name: 'lat' },
  { name: 'lng' },
];

/** A row of the file, its names cleaned and its `state` without "Gouvernorat de". */
export interface Municipality {
  code: string;
  nameFr: string | null;
  nameAr: string | null;
  state: string | null;
  line: number;
  /** The municipality's names stored otherwise than the row wrote them (its provenance keeps the cells). */
  adjustments: SourceAdjustment[];
  /** The `state` cell as written, for the governorate this row first names. */
  stateAsWritten: string;
}

/** Why a row is not a municipality: the column and reason. */
export type MunicipalityProblem = { column: string; reason: string };

/**
 * Reads a row: its code (a code that is not the official 5 digits is kept, with a warning), its names (one of
 * them at least; a missing one is a warning) and its governorate's name.
 */
export function readMunicipality(
  cells: Readonly<Record<string, string>>,
  line: number,
  warn: Warn,
): Municipality | MunicipalityProblem {
  const code = (cells.municipal_id ?? '').trim();
  if (!code) return { column: 'municipal_id', reason: 'no municipal_id' };
  if (!/^\d{5}$/.test(code))
    warn('municipal_id', `municipal_id ${JSON.stringify(code)} is not the 5-digit official code`);
  const adjustments = new SourceAdjustments();
  const nameFr = cleanName(cells.name, 'name', warn, adjustments, 'names.fr');
  const nameAr = cleanName(cells.name_ar, 'name_ar', warn, adjustments, 'names.ar');
  if (!nameFr && !nameAr) return { column: 'name', reason: 'no name and no name_ar' };
  if (!nameFr || !nameAr) warn(nameFr ? 'name_ar' : 'name', `no ${nameFr ? 'name_ar' : 'name'}`);
  let state = cleanName(cells.state, 'state', warn);
  const stripped = state?.replace(/^gouvernorat\s+(?:de\s+|du\s+|d['’]\s*)/i, '') ?? null;
  if (stripped !== state) {
    warn('state', `state ${JSON.stringify(state)} read as ${JSON.stringify(stripped)}`);
    state = stripped;
  }
  return {
    code,
    nameFr,
    nameAr,
    state,
    line,
    adjustments: adjustments.list,
    stateAsWritten: cells.state ?? '',
  };
}

/** The governorate most rows of a code prefix name, and how many of them do. */
export interface PrefixGovernorate {
  name: string;
  count: number;
  total: number;
}

/**
 * For each two-digit code prefix, the governorate most rows with that prefix name, when it is a clear
 * majority (more than half); a prefix with no majority decides nothing and the row's own `state` is kept.
 */
export function governoratesByCodePrefix(rows: readonly Municipality[]): Map<string, PrefixGovernorate> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!r.state || !/^\d{5}$/.test(r.code)) continue;
    const prefix = r.code.slice(0, 2);
    const m = counts.get(prefix) ?? new Map<string, number>();
    m.set(r.state, (m.get(r.state) ?? 0) + 1);
    counts.set(prefix, m);
  }
  const out = new Map<string, PrefixGovernorate>();
  for (const [prefix, m] of counts) {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const [name, count] = [...m.entries()].sort((a, b) => b[1] - a[1])[0];
    if (count * 2 > total) out.set(prefix, { name, count, total });
  }
  return out;
}

/** A municipality's governorate: its code prefix's (a disagreeing `state` is reported), else its `state`. */
export function governorateOf(
  r: Municipality,
  byPrefix: ReadonlyMap<string, PrefixGovernorate>,
  warn: Warn,
): string | null {
  const byCode = /^\d{5}$/.test(r.code) ? byPrefix.get(r.code.slice(0, 2)) : undefined;
  let parent = r.state;
  if (byCode && byCode.name !== r.state) {
    warn(
      'state',
      `state ${JSON.stringify(r.state)} disagrees with the code: ${r.code.slice(0, 2)} is ${byCode.name} in ` +
        `${byCode.count} of ${byCode.total} rows; parent set to ${byCode.name}`,
    );
    parent = byCode.name;
  }
  if (!parent) warn('state', 'no state; parent left null');
  return parent;
}

/**
 * Several municipalities share one French name while their Arabic names differ (51011, 51022 and 51023 are
 * all "Sousse"; 33022 الطويرف is "Tunis"): the French column came partly from a geocoder. The names are kept
 * as given (there is no other source to correct them from); each such row is reported, at its line.
 */
export function sharedFrenchNames(rows: readonly Municipality[]): { line: number; message: string }[] {
  const byName = new Map<string, Municipality[]>();
  for (const r of rows) if (r.nameFr) byName.set(r.nameFr, [...(byName.get(r.nameFr) ?? []), r]);
  const out: { line: number; message: string }[] = [];
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const r of group) {
      const others = group.filter((o) => o !== r).map((o) => `${o.code} ${o.nameAr ?? ''}`.trim());
      out.push({
        line: r.line,
        message: `French name ${JSON.stringify(name)} (Arabic ${r.nameAr ?? 'none'}) is also given to ${others.join(', ')}; kept as given`,
      });
    }
  }
  return out;
}

/** A municipality's organization (without provenance), under its governorate. */
export const municipalityContent = (r: Municipality, governorate: string | null): OrganizationContent => ({
  id: tunisiaMunicipalityId(r.code),
  kind: 'GOVERNMENT',
  classification: 'municipality',
  country: 'TN',
  parentId: governorate ? tunisiaGovernorateId(governorate) : null,
  nameAr: r.nameAr,
  nameFr: r.nameFr,
  nameEn: null,
  nameEs: null,
  ogpMembershipType: null,
  ogpJoined: null,
});

/**
 * How the governorate a row first names differs from that row's `state` cell (the cell its provenance cites):
 * cleaned like a name, "Gouvernorat de" removed, or (when the code's prefix decided) another row's spelling.
 */
export function governorateAdjustments(r: Municipality, governorate: string): SourceAdjustment[] {
  const cell = r.stateAsWritten;
  if (cell === governorate) return [];
  const adjustments = new SourceAdjustments();
  const cleaned = adjustments.cleanText(cell, 'state', 'names.fr');
  const reasons = adjustments.list[0]?.reasons ?? [];
  const stripped = cleaned?.replace(/^gouvernorat\s+(?:de\s+|du\s+|d['’]\s*)/i, '') ?? null;
  const more: SourceAdjustment['reasons'] = [];
  if (stripped !== cleaned) more.push('PREFIX_REMOVED');
  if (stripped !== governorate) more.push('CORRECTED');
  return [
    {
      column: 'state',
      field: 'names.fr',
      asWritten: cell,
      stored: governorate,
      reasons: [...reasons, ...more],
    },
  ];
}

/** A governorate's organization (without provenance): its French name only, the one the file gives. */
export const governorateContent = (name: string): OrganizationContent => ({
  id: tunisiaGovernorateId(name),
  kind: 'GOVERNMENT',
  classification: 'governorate',
  country: 'TN',
  parentId: null,
  nameAr: null,
  nameFr: name,
  nameEn: null,
  nameEs: null,
  ogpMembershipType: null,
  ogpJoined: null,
});
