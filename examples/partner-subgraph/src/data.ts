import { createHash } from 'node:crypto';

/** What a city indicator measures (the `CityIndicatorKind` enum of schema.graphql). */
export type CityIndicatorKind =
  'WATER_ACCESS' | 'WASTE_COLLECTION' | 'COMPLAINTS_RESOLVED' | 'PUBLIC_COUNCIL_MEETINGS';

/** One kind of indicator, described (`CityIndicatorKindInfo`). */
export interface CityIndicatorKindInfo {
  kind: CityIndicatorKind;
  label: string;
  unit: 'percent' | 'meetings';
  description: string;
  /** The range the synthetic values are drawn from, and their decimals. */
  min: number;
  max: number;
  decimals: number;
}

/** One yearly value of one indicator for one organization (`CityIndicator`). */
export interface CityIndicator {
  kind: CityIndicatorKind;
  year: number;
  value: string;
  unit: string;
  synthetic: true;
}

/** The kinds, in the order `indicatorKinds` and `indicators` list them. */
export const INDICATOR_KINDS: readonly CityIndicatorKindInfo[] = [
  {
    kind: 'WATER_ACCESS',
    label: 'Drinking water access',
    unit: 'percent',
    description: 'Share of households connected to the drinking water network at the end of the year.',
    min: 70,
    max: 99.9,
    decimals: 1,
  },
  {
    kind: 'WASTE_COLLECTION',
    label: 'Weekly waste collection',
    unit: 'percent',
    description: 'Share of households whose waste is collected at least once a week.',
    min: 50,
    max: 98,
    decimals: 1,
  },
  {
    kind: 'COMPLAINTS_RESOLVED',
    label: 'Complaints answered within 30 days',
    unit: 'percent',
    description:
      "Share of the citizens' complaints received during the year that were answered within 30 days.",
    min: 20,
    max: 95,
    decimals: 1,
  },
  {
    kind: 'PUBLIC_COUNCIL_MEETINGS',
    label: 'Public council meetings',
    unit: 'meetings',
    description: 'Number of council meetings held in public during the year.',
    min: 2,
    max: 14,
    decimals: 0,
  },
];

/**
 * The organizations this example has indicators for: real ids of the Civic Graph (owned by its organizations
 * subgraph), so that the gateway joins them; the figures themselves are synthetic.
 */
export const ORGANIZATION_IDS: readonly string[] = [
  'tn-municipality-34012', // Bou Arada
  'tn-municipality-33011', // El Kef
  'ma-region-01', // Béni Mellal-Khénifra
  'ma-region-02', // Casablanca-Settat
  'ma-commune-0001', // Aglif
];

/** The years covered, newest first. */
export const YEARS: readonly number[] = [2023, 2022, 2021, 2020, 2019];

/**
 * A synthetic value, the same on every run: drawn from a hash of the organization, the kind and the year, so
 * that the example needs no database and its answers can be compared in tests.
 */
function syntheticValue(organizationId: string, info: CityIndicatorKindInfo, year: number): string {
  const hash = createHash('sha256').update(`${organizationId}|${info.kind}|${year}`).digest();
  const fraction = hash.readUInt32BE(0) / 0xffffffff;
  return (info.min + fraction * (info.max - info.min)).toFixed(info.decimals);
}

/** Every indicator of every organization, by organization id, newest year first then in kind order. */
const BY_ORGANIZATION: ReadonlyMap<string, readonly CityIndicator[]> = new Map(
  ORGANIZATION_IDS.map((id) => [
    id,
    YEARS.flatMap((year) =>
      INDICATOR_KINDS.map((info): CityIndicator => ({
        kind: info.kind,
        year,
        value: syntheticValue(id, info, year),
        unit: info.unit,
        synthetic: true,
      })),
    ),
  ]),
);

/** An organization's indicators (all years, or one), newest year first; empty for an organization without any. */
export function indicatorsOf(organizationId: string, year?: number | null): CityIndicator[] {
  const all = BY_ORGANIZATION.get(organizationId) ?? [];
  return year == null ? [...all] : all.filter((i) => i.year === year);
}

/** An organization's indicator of one kind for the newest year there is one, or null. */
export function latestIndicatorOf(organizationId: string, kind: CityIndicatorKind): CityIndicator | null {
  return (BY_ORGANIZATION.get(organizationId) ?? []).find((i) => i.kind === kind) ?? null;
}
