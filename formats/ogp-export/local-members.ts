import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { moroccoRegionId, tunisiaMunicipalityId } from '@civic/formats/keys';
import { DATASETS_DIR, SOURCES, datasetPath } from '@civic/formats/sources';
import { fold } from './cells';
import type { OgpLocalMemberRecord } from './ogp-local';

/*
 * Which administrative unit an OGP Local member is. A member is the unit itself (Béni Mellal-Khénifra is the
 * region `ma-region-01`, El Kef the municipality `tn-municipality-33011`), which the admin-division import
 * describes: its record adds what OGP says about the unit rather than creating a second organization. Both
 * subgraphs must find the same id without reading each other's tables, so the unit is found in the bundled
 * reference files (morocco/regions.json, tunisia/municipalities.csv), read once.
 */

interface Region {
  id: string;
  name: Record<string, string>;
}

let regions: Region[] | null = null;
let municipalities: Set<string> | null = null;

const moroccanRegions = (): Region[] =>
  (regions ??= (
    JSON.parse(readFileSync(datasetPath(SOURCES.moroccoRegions.file, DATASETS_DIR), 'utf8')) as {
      regions: Region[];
    }
  ).regions);

const tunisianMunicipalities = (): Set<string> =>
  (municipalities ??= new Set(
    (
      parse(readFileSync(datasetPath(SOURCES.tunisiaMunicipalities.file, DATASETS_DIR), 'utf8'), {
        bom: true,
        columns: true,
      }) as Record<string, string>[]
    ).map((r) => r.municipal_id),
  ));

const sameName = (a: string | undefined, b: string | undefined) =>
  !!a &&
  !!b &&
  fold(a)
    .replace(/[^a-z0-9]+/g, ' ')
    .trim() ===
    fold(b)
      .replace(/[^a-z0-9]+/g, ' ')
      .trim();

/** A member's unit: its organization id (with a caveat worth a warning), or why none is known. */
export type LocalMemberUnit =
  { id: string; warning: string | null } | { problem: string; column: string; value: unknown };

/**
 * The administrative unit of a member: a Moroccan region by its French or English name in the regions file, a
 * Tunisian municipality by its official code (its `tn-municipality` identifier), checked against the
 * municipalities file (a code not there is kept, with a warning).
 */
export function resolveLocalMember(m: OgpLocalMemberRecord): LocalMemberUnit {
  if (m.country === 'MA' && m.level === 'region') {
    const region = moroccanRegions().find(
      (r) => sameName(r.name.fr, m.names.fr) || sameName(r.name.en, m.names.en),
    );
    return region
      ? { id: moroccoRegionId(region.id), warning: null }
      : {
          problem: `no Moroccan region named "${m.names.fr ?? m.names.en}"`,
          column: 'names',
          value: m.names,
        };
  }
  if (m.country === 'TN' && m.level === 'municipality') {
    const code = m.identifiers?.find((i) => i.scheme === 'tn-municipality')?.value;
    if (!code)
      return {
        problem: 'Tunisian municipality without a tn-municipality identifier',
        column: 'identifiers',
        value: m.identifiers ?? null,
      };
    const warning = tunisianMunicipalities().has(code)
      ? null
      : `municipality ${code} is not in ${SOURCES.tunisiaMunicipalities.file}`;
    return { id: tunisiaMunicipalityId(code), warning };
  }
  return {
    problem: `no administrative unit known for level "${m.level}" in ${m.country}`,
    column: 'level',
    value: m.level,
  };
}
