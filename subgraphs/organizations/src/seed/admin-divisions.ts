import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import {
  moroccoCommuneId,
  moroccoDivisionId,
  moroccoRegionId,
  tunisiaGovernorateId,
  tunisiaMunicipalityId,
} from '../../../../common/src/keys';
import { fromSource } from '../../../../common/src/provenance';
import { emptyReport, type SeedReport } from '../../../../common/src/seed';
import { DATASETS_DIR, SOURCES, datasetPath, type DatasetSource } from '../../../../common/src/sources';
import type { Organization } from '../entities/Organization';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';
import { organizationSeed, type OrganizationSeed } from './types';

/**
 * Builders for the administrative units of Morocco (regions, provinces and prefectures, communes) and Tunisia
 * (municipalities and their governorates). Pure: they read the dataset files and return rows plus a report;
 * the seed writes them. Every row the files hold is either loaded or refused with a reason, and every
 * correction made on the way (a trimmed name, a parent taken from the official code) is a warning.
 *
 * The Moroccan per-record builders (moroccoSourceId, readMoroccoUnit, buildMoroccoUnit, probableDuplicates)
 * are shared with the `admin-divisions` importer (../import/admin-divisions.ts), so the seed and an import of
 * the same file build the same rows.
 */

export type Names = Pick<Organization, 'nameAr' | 'nameFr' | 'nameEn' | 'nameEs'>;
const LANGS = [
  ['ar', 'nameAr'],
  ['fr', 'nameFr'],
  ['en', 'nameEn'],
  ['es', 'nameEs'],
] as const;

/**
 * Where a per-record builder reports a correction it made: the field (`name.fr`, `type`...) and a message
 * for people. The seed files it under the record's id, an importer under the record's line.
 */
export type Warn = (field: string | null, message: string) => void;

/** A {@link Warn} that adds to a seed report under `record`. */
const reportWarn =
  (report: SeedReport, record: string): Warn =>
  (_field, message) =>
    report.warnings.push({ record, message });

/** Invisible direction marks and zero-width characters: layout debris, never part of a name. */
const INVISIBLE = /[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const ARABIC_LETTER = /[\u0600-\u06ff\u0750-\u077f]/;
const LATIN_LETTER = /[A-Za-z\u00c0-\u024f]/;

/** True when the text is written in Arabic script only (no Latin letter). */
export const isArabicScript = (text: string) => ARABIC_LETTER.test(text) && !LATIN_LETTER.test(text);

/**
 * Cleans a name for display and identity: invisible marks removed, whitespace runs collapsed, ends trimmed.
 * Letters and diacritics are never touched (Arabic stays exactly as written). A change is reported as a
 * warning, so the cleaning is never silent; an empty result is null.
 */
export function cleanName(raw: unknown, field: string, warn: Warn): string | null {
  if (typeof raw !== 'string') return null;
  const invisible = [...new Set(raw.match(INVISIBLE) ?? [])];
  const clean = raw.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (clean !== raw && clean) {
    const marks = invisible.map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    const what = marks.length ? `invisible ${marks.join(', ')} removed` : 'extra spaces removed';
    warn(field, `${field} ${JSON.stringify(raw)} read as ${JSON.stringify(clean)} (${what})`);
  }
  return clean || null;
}

/**
 * Reads a `{ ar, en, es, fr }` names object (`prefix` names its fields in warnings: `name.fr`). A
 * Latin-language field holding only Arabic script (communes.json gives COM_0881's French name in Arabic) is
 * not French: it is left null when the Arabic field already has a name, moved to Arabic otherwise; either
 * way with a warning.
 */
export function readNames(raw: unknown, warn: Warn, prefix = 'name'): Names {
  const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const names: Names = { nameAr: null, nameFr: null, nameEn: null, nameEs: null };
  for (const [lang, key] of LANGS) names[key] = cleanName(obj[lang], `${prefix}.${lang}`, warn);
  for (const [lang, key] of LANGS) {
    const v = names[key];
    if (lang === 'ar' || !v || !isArabicScript(v)) continue;
    if (names.nameAr) {
      warn(
        `${prefix}.${lang}`,
        `${prefix}.${lang} ${JSON.stringify(v)} is in Arabic script, not ${lang}; left null (the Arabic name is ${JSON.stringify(names.nameAr)})`,
      );
    } else {
      names.nameAr = v;
      warn(
        `${prefix}.${lang}`,
        `${prefix}.${lang} ${JSON.stringify(v)} is in Arabic script; used as the Arabic name`,
      );
    }
    names[key] = null;
  }
  return names;
}

export const hasName = (n: Names) => Boolean(n.nameAr || n.nameFr || n.nameEn || n.nameEs);

function organization(
  id: string,
  fields: Pick<Organization, 'classification' | 'country' | 'parentId'> & Names,
  source: DatasetSource,
  record: string,
): Organization {
  return {
    id,
    kind: 'GOVERNMENT',
    ...fields,
    ogpMembershipType: null,
    ogpJoined: null,
    ...fromSource(source, record),
  };
}

/** The array under `key` in a dataset JSON file; throws (the whole file is unusable) when it is not there. */
function readJsonList(file: string, key: string, dir: string): unknown[] {
  const data: unknown = JSON.parse(readFileSync(datasetPath(file, dir), 'utf8'));
  const list = data && typeof data === 'object' ? (data as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(list)) throw new Error(`${file}: expected an object with a "${key}" array`);
  return list;
}

/** A level of Morocco's administrative division, as its source file lays it out. */
export interface MoroccoLevel {
  level: 'region' | 'division' | 'commune';
  /** The key of the records' array in the source file: `{ "regions": [...] }`. */
  key: 'regions' | 'region_divisions' | 'communes';
  source: DatasetSource;
  /** The field holding the parent's source id; null for regions. */
  parentField: 'region_id' | 'region_division_id' | null;
  /** Organization id of a unit of this level by its source id (REGION_01 → ma-region-01). */
  toId(sourceId: string): string;
  /** Organization id of the parent by its source id. */
  parentToId: ((sourceId: string) => string) | null;
  /** The identifier scheme holding the source id. */
  scheme: 'ma-region' | 'ma-division' | 'ma-commune';
}

export const MOROCCO_LEVELS: Record<MoroccoLevel['level'], MoroccoLevel> = {
  region: {
    level: 'region',
    key: 'regions',
    source: SOURCES.moroccoRegions,
    parentField: null,
    toId: moroccoRegionId,
    parentToId: null,
    scheme: 'ma-region',
  },
  division: {
    level: 'division',
    key: 'region_divisions',
    source: SOURCES.moroccoDivisions,
    parentField: 'region_id',
    toId: moroccoDivisionId,
    parentToId: moroccoRegionId,
    scheme: 'ma-division',
  },
  commune: {
    level: 'commune',
    key: 'communes',
    source: SOURCES.moroccoCommunes,
    parentField: 'region_division_id',
    toId: moroccoCommuneId,
    parentToId: moroccoDivisionId,
    scheme: 'ma-commune',
  },
};

export interface MoroccoUnit {
  /** The source id (REGION_01, DIV_001, COM_0001). */
  id: string;
  names: Names;
  /** The source record, for the fields each level reads itself (region_id, type...). */
  raw: Record<string, unknown>;
}

/** A source record as an object ({} when it is not one). */
export const asRecord = (item: unknown): Record<string, unknown> =>
  item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : {};

/** The source id of a Moroccan record, trimmed; '' when it has none. */
export const moroccoSourceId = (raw: Record<string, unknown>): string =>
  typeof raw.id === 'string' ? raw.id.trim() : '';

/** Why a record with no name is refused. */
export const NO_NAME = 'no name in any language (ar, en, es, fr)';

/** Reads a Moroccan record's names: the unit, or null when it has no name in any language (refused). */
export function readMoroccoUnit(raw: Record<string, unknown>, id: string, warn: Warn): MoroccoUnit | null {
  const names = readNames(raw.name, warn);
  return hasName(names) ? { id, names, raw } : null;
}

/**
 * Two records with different ids but the same names in every language, the same parent and the same type are
 * probably one unit listed twice (communes.json has four such pairs: Casablanca, Loudaya, Sidi Zouine,
 * Taounate). Both are kept, because their ids differ and nothing says which one is wrong, and both are
 * reported. Returns a check to call on each unit in file order: it warns on the second of a pair.
 */
export function probableDuplicates(level: MoroccoLevel): (unit: MoroccoUnit, warn: Warn) => void {
  const seen = new Map<string, string>();
  const field = level.parentField;
  return (u, warn) => {
    if (!field) return;
    const key = JSON.stringify([u.names, u.raw[field], u.raw.type]);
    const first = seen.get(key);
    if (first)
      warn(
        null,
        `probable duplicate of ${first}: same names, ${field} and type; kept both (their ids differ)`,
      );
    else seen.set(key, u.id);
  };
}

/**
 * How a commune's source type becomes its classification. The source says "rural" or "urbain" (French);
 * classifications are English elsewhere ("region", "province"), so "urbain" reads "urban". Keeping the type in
 * the classification lets a client tell rural communes from urban municipalities without another column.
 */
const COMMUNE_TYPES: Record<string, string> = { rural: 'commune (rural)', urbain: 'commune (urban)' };

/** A unit's classification from its level and source `type`, with a warning for a type the level does not know. */
function classification(level: MoroccoLevel, u: MoroccoUnit, warn: Warn): string | null {
  if (level.level === 'region') return 'region';
  if (level.level === 'division') {
    const type = cleanName(u.raw.type, 'type', warn)?.toLowerCase() ?? null;
    if (type !== 'province' && type !== 'prefecture')
      warn(
        'type',
        `type ${JSON.stringify(u.raw.type ?? null)} is neither province nor prefecture; kept as given`,
      );
    // An unknown type is kept as given, bounded by the 64-character column.
    return type?.slice(0, 64) ?? null;
  }
  const type = cleanName(u.raw.type, 'type', warn);
  const known = type ? COMMUNE_TYPES[type.toLowerCase()] : undefined;
  if (known) return known;
  warn('type', `type ${JSON.stringify(u.raw.type ?? null)} is neither rural nor urbain`);
  // An unknown type is still worth keeping, but bounded by the 64-character column.
  return type ? `commune (${type})`.slice(0, 64) : 'commune';
}

/**
 * A Moroccan unit's organization and identifier. The parent is the unit named by the level's parent field.
 * With `parentKnown` (the seed, which has the parent file at hand), a parent id missing from the parent file
 * keeps the unit (it is real) with a null parent and a warning, rather than a dangling reference; without it
 * (an importer, whose parents are stored or imported later) the reference is kept.
 */
export function buildMoroccoUnit(
  level: MoroccoLevel,
  u: MoroccoUnit,
  warn: Warn,
  parentKnown?: (sourceId: string) => boolean,
): { organization: Organization; identifier: OrganizationIdentifier } {
  const kind = classification(level, u, warn);
  let parentId: string | null = null;
  if (level.parentField && level.parentToId) {
    const field = level.parentField;
    const ref = typeof u.raw[field] === 'string' ? (u.raw[field] as string).trim() : '';
    if (!ref) warn(field, `no ${field}; parent left null`);
    else if (parentKnown && !parentKnown(ref))
      warn(field, `${field} ${ref} is not in the parent file; parent left null`);
    else parentId = level.parentToId(ref);
  }
  const id = level.toId(u.id);
  return {
    organization: organization(
      id,
      { classification: kind, country: 'MA', parentId, ...u.names },
      level.source,
      u.id,
    ),
    identifier: { organizationId: id, scheme: level.scheme, value: u.id },
  };
}

/**
 * One Moroccan file: a record with no id or no name in any language is refused, and so is a second record
 * with an id already seen (the first one wins: ids are the keys others refer to).
 */
function buildMoroccoLevel(
  level: MoroccoLevel,
  dir: string,
  parents: ReadonlySet<string> | null,
): { seed: OrganizationSeed; sourceIds: Set<string> } {
  const source = level.source;
  const report = emptyReport(source.dataset);
  const organizations: Organization[] = [];
  const identifiers: OrganizationIdentifier[] = [];
  const firstIndex = new Map<string, number>();
  const duplicates = probableDuplicates(level);
  readJsonList(source.file, level.key, dir).forEach((item, index) => {
    const raw = asRecord(item);
    const id = moroccoSourceId(raw);
    const record = id || `${source.file}[${index}]`;
    if (!id) {
      report.refused.push({ record, reason: 'no id' });
      return;
    }
    const seen = firstIndex.get(id);
    if (seen !== undefined) {
      report.refused.push({
        record,
        reason: `duplicate id ${id} (record ${index}; first at record ${seen})`,
      });
      return;
    }
    firstIndex.set(id, index);
    const warn = reportWarn(report, record);
    const unit = readMoroccoUnit(raw, id, warn);
    if (!unit) {
      report.refused.push({ record, reason: NO_NAME });
      return;
    }
    duplicates(unit, warn);
    const built = buildMoroccoUnit(level, unit, warn, parents ? (ref) => parents.has(ref) : undefined);
    organizations.push(built.organization);
    identifiers.push(built.identifier);
  });
  return {
    seed: organizationSeed(report, organizations, identifiers),
    sourceIds: new Set(identifiers.map((i) => i.value)),
  };
}

interface MunicipalityRow {
  code: string;
  nameFr: string | null;
  nameAr: string | null;
  /** The governorate as the `state` column gives it, "Gouvernorat de " removed. */
  state: string | null;
  line: number;
}

/**
 * Tunisian municipalities (municipalities.csv) and one governorate per distinct governorate name.
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
function buildTunisianMunicipalities(dir: string): OrganizationSeed {
  const source = SOURCES.tunisiaMunicipalities;
  const report = emptyReport(source.dataset);
  const text = readFileSync(datasetPath(source.file, dir), 'utf8');
  // `info: true` wraps each record with its line; csv-parse's typings do not model that option.
  const parsed = parse(text, {
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  const header = (parsed[0]?.record ?? []).map((h) => h.trim());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${source.file}: no "${name}" column (columns: ${header.join(', ')})`);
    return i;
  };
  const [iCode, iName, iNameAr, iState] = ['municipal_id', 'name', 'name_ar', 'state'].map(col);

  const rows: MunicipalityRow[] = [];
  const firstLine = new Map<string, number>();
  for (const { record: cells, info } of parsed.slice(1)) {
    const line = info.lines;
    const code = (cells[iCode] ?? '').trim();
    const record = code || `${source.file}:line ${line}`;
    if (cells.length !== header.length) {
      report.warnings.push({
        record,
        message: `line ${line} has ${cells.length} cells, the header ${header.length}`,
      });
    }
    if (!code) {
      report.refused.push({ record, reason: 'no municipal_id' });
      continue;
    }
    const seen = firstLine.get(code);
    if (seen !== undefined) {
      report.refused.push({
        record,
        reason: `duplicate municipal_id ${code} (line ${line}; first at line ${seen})`,
      });
      continue;
    }
    firstLine.set(code, line);
    if (!/^\d{5}$/.test(code)) {
      report.warnings.push({
        record,
        message: `municipal_id ${JSON.stringify(code)} is not the 5-digit official code`,
      });
    }
    const nameFr = cleanName(cells[iName], 'name', reportWarn(report, record));
    const nameAr = cleanName(cells[iNameAr], 'name_ar', reportWarn(report, record));
    if (!nameFr && !nameAr) {
      report.refused.push({ record, reason: 'no name and no name_ar' });
      continue;
    }
    if (!nameFr || !nameAr) report.warnings.push({ record, message: `no ${nameFr ? 'name_ar' : 'name'}` });
    let state = cleanName(cells[iState], 'state', reportWarn(report, record));
    const stripped = state?.replace(/^gouvernorat\s+(?:de\s+|du\s+|d['’]\s*)/i, '') ?? null;
    if (stripped !== state) {
      report.warnings.push({
        record,
        message: `state ${JSON.stringify(state)} read as ${JSON.stringify(stripped)}`,
      });
      state = stripped;
    }
    rows.push({ code, nameFr, nameAr, state, line });
  }

  const governorateByPrefix = governoratesByCodePrefix(rows);
  const organizations: Organization[] = [];
  const identifiers: OrganizationIdentifier[] = [];
  const governorates = new Map<string, Organization>();
  const governorate = (name: string) => {
    let g = governorates.get(name);
    if (!g) {
      g = organization(
        tunisiaGovernorateId(name),
        {
          classification: 'governorate',
          country: 'TN',
          parentId: null,
          nameAr: null,
          nameFr: name,
          nameEn: null,
          nameEs: null,
        },
        source,
        `state=${name}`,
      );
      governorates.set(name, g);
    }
    return g.id;
  };

  for (const r of rows) {
    const byCode = /^\d{5}$/.test(r.code) ? governorateByPrefix.get(r.code.slice(0, 2)) : undefined;
    let parent = r.state;
    if (byCode && byCode.name !== r.state) {
      report.warnings.push({
        record: r.code,
        message:
          `state ${JSON.stringify(r.state)} disagrees with the code: ${r.code.slice(0, 2)} is ${byCode.name} in ` +
          `${byCode.count} of ${byCode.total} rows; parent set to ${byCode.name}`,
      });
      parent = byCode.name;
    }
    if (!parent) report.warnings.push({ record: r.code, message: 'no state; parent left null' });
    const id = tunisiaMunicipalityId(r.code);
    organizations.push(
      organization(
        id,
        {
          classification: 'municipality',
          country: 'TN',
          parentId: parent ? governorate(parent) : null,
          nameAr: r.nameAr,
          nameFr: r.nameFr,
          nameEn: null,
          nameEs: null,
        },
        source,
        r.code,
      ),
    );
    identifiers.push({ organizationId: id, scheme: 'tn-municipality', value: r.code });
  }
  warnSharedFrenchNames(rows, report);
  return organizationSeed(report, [...governorates.values(), ...organizations], identifiers);
}

/**
 * For each two-digit code prefix, the governorate most rows with that prefix name, when it is a clear
 * majority (more than half); a prefix with no majority decides nothing and the row's own `state` is kept.
 */
function governoratesByCodePrefix(
  rows: MunicipalityRow[],
): Map<string, { name: string; count: number; total: number }> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!r.state || !/^\d{5}$/.test(r.code)) continue;
    const prefix = r.code.slice(0, 2);
    const m = counts.get(prefix) ?? new Map<string, number>();
    m.set(r.state, (m.get(r.state) ?? 0) + 1);
    counts.set(prefix, m);
  }
  const out = new Map<string, { name: string; count: number; total: number }>();
  for (const [prefix, m] of counts) {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const [name, count] = [...m.entries()].sort((a, b) => b[1] - a[1])[0];
    if (count * 2 > total) out.set(prefix, { name, count, total });
  }
  return out;
}

/**
 * Several municipalities share one French name while their Arabic names differ (51011, 51022 and 51023 are
 * all "Sousse"; 33022 الطويرف is "Tunis"): the French column came partly from a geocoder. The names are kept
 * as given (there is no other source to correct them from) and each such row is reported.
 */
function warnSharedFrenchNames(rows: MunicipalityRow[], report: SeedReport): void {
  const byName = new Map<string, MunicipalityRow[]>();
  for (const r of rows) if (r.nameFr) byName.set(r.nameFr, [...(byName.get(r.nameFr) ?? []), r]);
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const r of group) {
      const others = group.filter((o) => o !== r).map((o) => `${o.code} ${o.nameAr ?? ''}`.trim());
      report.warnings.push({
        record: r.code,
        message: `French name ${JSON.stringify(name)} (Arabic ${r.nameAr ?? 'none'}) is also given to ${others.join(', ')}; kept as given`,
      });
    }
  }
}

/**
 * Builds the administrative units, one seed per source file: Morocco's 12 regions, its provinces and
 * prefectures (parent: region), its communes (parent: province or prefecture), and Tunisia's municipalities
 * with their governorates (both from municipalities.csv). Ids come from common/src/keys.ts.
 *
 * @param dir the datasets folder (tests pass a copy); defaults to data/datasets.
 */
export function buildAdminDivisions(dir = DATASETS_DIR): OrganizationSeed[] {
  const regions = buildMoroccoLevel(MOROCCO_LEVELS.region, dir, null);
  const divisions = buildMoroccoLevel(MOROCCO_LEVELS.division, dir, regions.sourceIds);
  const communes = buildMoroccoLevel(MOROCCO_LEVELS.commune, dir, divisions.sourceIds);
  return [regions.seed, divisions.seed, communes.seed, buildTunisianMunicipalities(dir)];
}
