import type { DataSource } from 'typeorm';
import { countryNames } from '@civic/formats/ogp-export/countries';
import { binary } from '@civic/common/dialect';
import { badInput } from '@civic/common/errors';
import { bestText, type Language } from '@civic/common/localized';
import { joinSearch } from '@civic/common/search';
import {
  COMPLETION,
  POTENTIAL_IMPACT,
  type Completion,
  type OgpValue,
  type PotentialImpact,
} from '@civic/formats/vocabulary';
import { ActionPlanEntity } from './entities/ActionPlan';
import { CommitmentEntity } from './entities/Commitment';
import { CommitmentOgpValueEntity, CommitmentPolicyAreaEntity } from './entities/CommitmentLinks';
import { applyCommitmentFilter } from './list';
import type { CommitmentDimension, CommitmentFilter, CommitmentGroup } from './generated/resolvers-types';
import { scaleRankSql } from './ordering';
import { STAT_CELLS, STAT_GRAINS } from './stats';

/** The IRM's own words for its scales, as the OGP export writes them. */
const POTENTIAL_IMPACT_LABELS: Record<PotentialImpact, string> = {
  NONE: 'None',
  MINOR: 'Minor',
  MODERATE: 'Moderate',
  TRANSFORMATIVE: 'Transformative',
};
const COMPLETION_LABELS: Record<Completion, string> = {
  NOT_STARTED: 'Not Started',
  LIMITED: 'Limited',
  SUBSTANTIAL: 'Substantial',
  COMPLETE: 'Complete',
  WITHDRAWN: 'Withdrawn',
  UNCLEAR: 'Unclear',
};
/** OGP's names for its four values. */
const OGP_VALUE_LABELS: Record<OgpValue, string> = {
  ACCESS_TO_INFORMATION: 'Access to Information',
  CIVIC_PARTICIPATION: 'Civic Participation',
  PUBLIC_ACCOUNTABILITY: 'Public Accountability',
  TECHNOLOGY_AND_INNOVATION: 'Technology and Innovation for Transparency and Accountability',
};

type Join = 'plan' | 'policyArea' | 'ogpValue';
type Raw = string | number | null;

/** How one dimension is grouped, ordered and labelled. */
interface DimensionDef {
  /** The table it needs besides `commitments c`: `sp` (action plan), `spa` (policy area), `sov` (OGP value). */
  join?: Join;
  /** SQL of the group's value. */
  value: string;
  /** The scale the value is on: groups then come in scale order (a CASE), not alphabetically. */
  scale?: readonly string[];
  /** SQL of what the label is made of, the same for every row of a group up to spelling: MIN picks one. */
  labels?: { sql: string; text: boolean }[];
  /** The label from the value and the label columns, in the request's languages. */
  label: (value: string | null, labels: Raw[], languages: readonly Language[]) => string | null;
}

const same = (value: string | null) => value;
const from =
  (labels: Record<string, string>) =>
  (value: string | null): string | null =>
    value === null ? null : (labels[value] ?? value);
const sourceName = (_: string | null, [name]: Raw[]) => (name === null ? null : String(name));

const DIMENSIONS: Record<CommitmentDimension, DimensionDef> = {
  MEMBER: {
    join: 'plan',
    value: 'sp.member_id',
    labels: [{ sql: 'sp.member_name', text: true }],
    label: sourceName,
  },
  COUNTRY: {
    join: 'plan',
    value: 'sp.country',
    label: (value, _, languages) => (value === null ? null : bestText(countryNames(value), languages)),
  },
  ACTION_PLAN: {
    join: 'plan',
    value: 'c.action_plan_id',
    labels: [
      { sql: 'sp.member_name', text: true },
      { sql: 'sp.start_year', text: false },
      { sql: 'sp.end_year', text: false },
    ],
    // "Morocco 2018-2020": the member's name as the source writes it, then the plan's years where known.
    label: (value, [name, start, end]) => {
      if (value === null) return null;
      const years = start === null ? '' : end === null || end === start ? `${start}` : `${start}-${end}`;
      return [name ?? value, years].filter(Boolean).join(' ');
    },
  },
  THEME: { value: 'c.theme', label: same },
  POLICY_AREA: { join: 'policyArea', value: 'spa.policy_area', label: same },
  OGP_VALUE: { join: 'ogpValue', value: 'sov.value', label: from(OGP_VALUE_LABELS) },
  LEAD_ORGANIZATION: {
    value: 'c.lead_organization_id',
    labels: [{ sql: 'c.lead_organization_name', text: true }],
    label: sourceName,
  },
  POTENTIAL_IMPACT: {
    value: 'c.potential_impact',
    scale: POTENTIAL_IMPACT,
    label: from(POTENTIAL_IMPACT_LABELS),
  },
  COMPLETION_MIDTERM: { value: 'c.completion_midterm', scale: COMPLETION, label: from(COMPLETION_LABELS) },
  COMPLETION_END_OF_TERM: {
    value: 'c.completion_end_of_term',
    scale: COMPLETION,
    label: from(COMPLETION_LABELS),
  },
  START_YEAR: { value: 'SUBSTR(c.start_date, 1, 4)', label: same },
};

/**
 * The most groups `Query.commitmentStats` returns: every dimension at once gives thousands of groups on the
 * real data, and far more on a large database; past this, the client is asked to filter or group less.
 */
export const MAX_GROUPS = 10000;

/** One row of a stats statement: the organization (when grouped by one), the group's values and labels. */
export interface StatsRow {
  organizationId: string | null;
  values: (string | null)[];
  labels: Raw[][];
  count: number;
}

/**
 * Counts commitments grouped by `groupBy` in ONE statement: `COUNT(DISTINCT c.id)` over the commitments
 * matching `filter`, joined to their action plan, policy areas or OGP values when a dimension needs them (a
 * commitment then counts once per area or value). With `organizations`, also grouped by organization: the
 * commitments each of those organizations has in `role` (the same source as Organization.commitments).
 * Text is grouped and ordered by code point on both backends; groups come ordered by organization, then by
 * their keys (scales in scale order, no value first).
 */
export async function queryStats(
  ds: DataSource,
  groupBy: readonly CommitmentDimension[],
  opts: {
    filter?: CommitmentFilter | null;
    organizations?: { ids: readonly string[]; role: { sql: string } };
    /** Refuse (BAD_USER_INPUT) a result of more than this many groups. */
    maxGroups?: number;
    /** Count the rows even where the stored counts would answer (what tests compare those with). */
    fromRows?: boolean;
  } = {},
): Promise<StatsRow[]> {
  const grain = opts.organizations || opts.fromRows ? null : storedGrain(groupBy, opts.filter);
  if (grain !== null) return storedStats(ds, groupBy, grain, opts.maxGroups);
  const qb = ds.getRepository(CommitmentEntity).createQueryBuilder('c');
  const search = applyCommitmentFilter(ds, qb, opts.filter);
  if (search) joinSearch(qb, search);
  const defs = groupBy.map((d) => DIMENSIONS[d]);
  const joins = new Set(defs.map((d) => d.join));
  // Joined by entity name (TypeORM's join takes a class or a name, not an EntitySchema object).
  if (joins.has('plan')) qb.innerJoin(ActionPlanEntity.options.name, 'sp', 'sp.id = c.action_plan_id');
  if (joins.has('policyArea'))
    qb.leftJoin(CommitmentPolicyAreaEntity.options.name, 'spa', 'spa.commitment_id = c.id');
  if (joins.has('ogpValue'))
    qb.leftJoin(CommitmentOgpValueEntity.options.name, 'sov', 'sov.commitment_id = c.id');
  qb.select('COUNT(DISTINCT c.id)', 'n');
  // Every selected column is either grouped or aggregated (MySQL's ONLY_FULL_GROUP_BY): the scale rank is a
  // function of the value and adds no group; labels are MIN'ed.
  const groups: string[] = [];
  const order: string[] = [];
  if (opts.organizations) {
    const org = opts.organizations;
    qb.innerJoin(`(${org.role.sql})`, 'r', 'r.child_id = c.id')
      .andWhere('r.parent_id IN (:...s_orgs)', { s_orgs: [...org.ids] })
      .addSelect('r.parent_id', 's_org');
    groups.push('s_org');
    order.push('s_org');
  }
  defs.forEach((d, i) => {
    qb.addSelect(binary(ds, d.value), `s${i}_v`);
    groups.push(`s${i}_v`);
    if (d.scale) {
      qb.addSelect(scaleRankSql(d.scale, d.value), `s${i}_r`);
      groups.push(`s${i}_r`);
      order.push(`s${i}_r`);
    }
    order.push(`s${i}_v`);
    (d.labels ?? []).forEach((l, j) =>
      qb.addSelect(`MIN(${l.text ? binary(ds, l.sql) : l.sql})`, `s${i}_l${j}`),
    );
  });
  groups.forEach((g, i) => (i ? qb.addGroupBy(g) : qb.groupBy(g)));
  order.forEach((o, i) => (i ? qb.addOrderBy(o, 'ASC') : qb.orderBy(o, 'ASC')));
  if (opts.maxGroups !== undefined) qb.limit(opts.maxGroups + 1);
  const rows: Record<string, Raw>[] = await qb.getRawMany();
  if (opts.maxGroups !== undefined && rows.length > opts.maxGroups) throw tooManyGroups(opts.maxGroups);
  return rows.map((r) => ({
    organizationId: text(r.s_org),
    values: defs.map((_, i) => text(r[`s${i}_v`])),
    labels: defs.map((d, i) => (d.labels ?? []).map((_, j) => r[`s${i}_l${j}`] ?? null)),
    count: Number(r.n),
  }));
}

const text = (v: Raw | undefined) => (v === null || v === undefined ? null : String(v));

const tooManyGroups = (max: number) =>
  badInput(
    `Argument "groupBy" gives more than ${max} groups: group by fewer dimensions or narrow "filter"`,
    'groupBy',
  );

/** The scale dimensions grain '' of the stored counts holds, by their column there. */
const STORED_SCALES: Partial<Record<CommitmentDimension, string>> = {
  POTENTIAL_IMPACT: 'potential_impact',
  COMPLETION_MIDTERM: 'completion_midterm',
  COMPLETION_END_OF_TERM: 'completion_end_of_term',
};

/**
 * The grain of the stored counts (stats.ts) that answers a `commitmentStats` exactly, or null: with no filter
 * (every commitment), grouped by any of COUNTRY and the three scales (grain ''), or by COUNTRY and one of
 * POLICY_AREA or OGP_VALUE (their grain). Anything else, and the per-organization batches, counts the rows.
 */
export function storedGrain(
  groupBy: readonly CommitmentDimension[],
  filter: CommitmentFilter | null | undefined,
): string | null {
  if (filter && Object.values(filter).some((v) => v !== null && v !== undefined)) return null;
  const multi = groupBy.filter((d) => d in STAT_GRAINS);
  if (multi.length > 1) return null;
  const others = groupBy.filter((d) => !(d in STAT_GRAINS));
  if (multi.length) return others.every((d) => d === 'COUNTRY') ? multi[0] : null;
  return others.every((d) => d === 'COUNTRY' || d in STORED_SCALES) ? '' : null;
}

/** {@link queryStats} from the stored counts: the same groups, counts and order, no labels to read. */
async function storedStats(
  ds: DataSource,
  groupBy: readonly CommitmentDimension[],
  grain: string,
  maxGroups: number | undefined,
): Promise<StatsRow[]> {
  const select = ['SUM(s.n) AS n'];
  const groups: string[] = [];
  const order: string[] = [];
  groupBy.forEach((d, i) => {
    const def = DIMENSIONS[d];
    const column = d === 'COUNTRY' ? 's.country' : d in STAT_GRAINS ? 's.value' : `s.${STORED_SCALES[d]}`;
    select.push(`${binary(ds, column)} AS s${i}_v`);
    groups.push(`s${i}_v`);
    if (def.scale) {
      select.push(`${scaleRankSql(def.scale, column)} AS s${i}_r`);
      groups.push(`s${i}_r`);
      order.push(`s${i}_r`);
    }
    order.push(`s${i}_v`);
  });
  const where = [`s.grain = '${grain in STAT_GRAINS ? grain : ''}'`];
  // Grouping by country joins the action plan: a commitment without one is in no group.
  if (groupBy.includes('COUNTRY')) where.push('s.planned = 1');
  const rows: Record<string, Raw>[] = await ds.query(
    `SELECT ${select.join(', ')} FROM ${STAT_CELLS} s WHERE ${where.join(' AND ')}` +
      (groups.length ? ` GROUP BY ${groups.join(', ')} ORDER BY ${order.join(', ')}` : '') +
      (maxGroups === undefined ? '' : ` LIMIT ${Math.trunc(maxGroups) + 1}`),
  );
  if (maxGroups !== undefined && rows.length > maxGroups) throw tooManyGroups(maxGroups);
  // No commitment at all: COUNT over nothing is one group of 0 when nothing is grouped, as SUM(NULL) reads.
  return rows.map((r) => ({
    organizationId: null,
    values: groupBy.map((_, i) => text(r[`s${i}_v`])),
    labels: groupBy.map((d) => (DIMENSIONS[d].labels ?? []).map(() => null)),
    count: Number(r.n ?? 0),
  }));
}

/** The CommitmentGroups of stats rows, labelled in the request's languages. */
export function toGroups(
  groupBy: readonly CommitmentDimension[],
  rows: readonly StatsRow[],
  languages: readonly Language[],
): CommitmentGroup[] {
  return rows.map((r) => ({
    keys: groupBy.map((dimension, i) => ({
      dimension,
      value: r.values[i],
      label: DIMENSIONS[dimension].label(r.values[i], r.labels[i], languages),
      // No dimension of commitments is a code of a classification scheme.
      scheme: null,
    })),
    count: r.count,
  }));
}
