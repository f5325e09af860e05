import { SourceAdjustments } from '@civic/common/import/adjust';
import type { SourceAdjustment } from '@civic/common/provenance';
import { moroccoCommuneId, moroccoDivisionId, moroccoRegionId } from '@civic/formats/keys';
import { SOURCES, type DatasetSource } from '@civic/formats/sources';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';
import { cleanName, hasName, readNames, type Names, type Warn } from './names';
import type { OrganizationContent } from './rows';

/*
 * Morocco's administrative divisions as data/datasets/morocco lays them out (regions.json,
 * region-divisions.json, communes.json, from mahdiboughrous/moroccan-administrative-division-data): a level
 * per file, `{ "<key>": [ { id, name: { ar, en, es, fr }, <parent field>, type } ] }`. What a record of each
 * level becomes; the `admin-divisions` importer (./admin-divisions.ts) reads the files.
 */

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

/** The three levels: regions, provinces and prefectures (parent: region), communes (parent: division). */
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

/** A Moroccan record whose names were read. */
export interface MoroccoUnit {
  /** The source id (REGION_01, DIV_001, COM_0001). */
  id: string;
  names: Names;
  /** The source record, for the fields each level reads itself (region_id, type...). */
  raw: Record<string, unknown>;
  /** Its names stored otherwise than the record wrote them (its provenance keeps the cells). */
  adjustments: SourceAdjustment[];
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
  const adjustments = new SourceAdjustments();
  const names = readNames(raw.name, warn, 'name', adjustments);
  return hasName(names) ? { id, names, raw, adjustments: adjustments.list } : null;
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
 * A Moroccan unit's organization (without provenance) and identifier. The parent is the unit named by the
 * level's parent field, kept even when it is not stored yet (its file may be imported later; the importer
 * warns about it after the write); a unit with no parent reference has a null parent, with a warning.
 */
export function buildMoroccoUnit(
  level: MoroccoLevel,
  u: MoroccoUnit,
  warn: Warn,
): { organization: OrganizationContent; identifier: OrganizationIdentifier } {
  const kind = classification(level, u, warn);
  let parentId: string | null = null;
  if (level.parentField && level.parentToId) {
    const field = level.parentField;
    const ref = typeof u.raw[field] === 'string' ? (u.raw[field] as string).trim() : '';
    if (!ref) warn(field, `no ${field}; parent left null`);
    else parentId = level.parentToId(ref);
  }
  const id = level.toId(u.id);
  const organization: OrganizationContent = {
    id,
    kind: 'GOVERNMENT',
    classification: kind,
    country: 'MA',
    parentId,
    ...u.names,
    ogpMembershipType: null,
    ogpJoined: null,
  };
  return { organization, identifier: { organizationId: id, scheme: level.scheme, value: u.id } };
}
