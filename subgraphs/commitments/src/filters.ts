import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { badInput } from '../../../common/src/errors';
import { countryFilter } from '../../../common/src/filters';
import { binaryCollation } from '../../../common/src/migration-columns';
import type { ActionPlan } from './entities/ActionPlan';
import type { Commitment } from './entities/Commitment';
import type { ActionPlanFilter, CommitmentFilter, IntRange } from './generated/resolvers-types';
import {
  ACTION_PLAN_SEARCH_TYPE,
  COMMITMENT_SEARCH_TYPE,
  COMMITMENT_SEARCH_WEIGHTS,
  joinSearch,
  listSearch,
  type ListSearch,
} from './search';

/**
 * Text that compares and groups by code point on both backends, with the collation ordering.ts sorts by:
 * SQLite already does, MySQL's default utf8mb4_unicode_ci would fold case and accents (`Open Data` and
 * `open data` one value on MySQL only).
 */
export function binary(ds: DataSource, sql: string): string {
  const collation = binaryCollation(ds.options.type);
  return collation ? `(${sql}) COLLATE ${collation}` : sql;
}

/** A year as the four-digit text an ISO 8601 date starts with. */
const yearText = (year: number) => String(year).padStart(4, '0');

/**
 * Adds `column`'s year in [min, max] to the query, for an ISO 8601 text column that may have reduced
 * precision ('2018', '2018-06', '2018-06-01'): as text, `>= '2018'` and `< '2020'` select exactly the
 * dates of 2018 and 2019 whatever their precision, and the column's index serves it.
 */
function yearRange<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  range: IntRange | null | undefined,
  argument: string,
): void {
  if (!range) return;
  const { min, max } = range;
  for (const [end, v] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (v != null && (v < 0 || v > 9999)) {
      throw badInput(`Argument "${argument}.${end}" must be a year from 0 to 9999; got ${v}`, argument);
    }
  }
  if (min != null && max != null && min > max) {
    throw badInput(
      `Argument "${argument}" has min ${min} greater than max ${max}: expected min <= max`,
      argument,
    );
  }
  const name = argument.replace(/\W/g, '_');
  // A range, even one open at both ends, asks for a date in it: rows without one are left out.
  qb.andWhere(`${column} IS NOT NULL`);
  if (min != null) qb.andWhere(`${column} >= :${name}_min`, { [`${name}_min`]: yearText(min) });
  // The year after max, as text; past 9999 there is nothing left to exclude.
  if (max != null && max < 9999)
    qb.andWhere(`${column} < :${name}_max`, { [`${name}_max`]: yearText(max + 1) });
}

/** `column IN (...)` for a list argument; an empty list matches no row (the IN of nothing). */
function inList<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  values: readonly string[] | null | undefined,
  param: string,
): void {
  if (values == null) return;
  if (!values.length) qb.andWhere('1 = 0');
  else qb.andWhere(`${column} IN (:...${param})`, { [param]: [...new Set(values)] });
}

/** The search of a CommitmentFilter (null without `search`); BAD_USER_INPUT naming `filter.search`. */
export const commitmentSearch = (ds: DataSource, filter: CommitmentFilter | null | undefined) =>
  listSearch(ds, COMMITMENT_SEARCH_TYPE, filter?.search, COMMITMENT_SEARCH_WEIGHTS);

/** The search of an ActionPlanFilter (null without `search`); BAD_USER_INPUT naming `filter.search`. */
export const actionPlanSearch = (ds: DataSource, filter: ActionPlanFilter | null | undefined) =>
  listSearch(ds, ACTION_PLAN_SEARCH_TYPE, filter?.search);

/**
 * Applies a CommitmentFilter to a query over `commitments` aliased `c`. Facts of other tables of this
 * subgraph (the plan's member and country, policy areas, OGP values, supporting organizations) are IN
 * subqueries inside this subgraph's own database, so the query keeps one row per commitment; the search is
 * an inner join on the search subquery (one row per commitment found, with its `search.score`). Pass the
 * search already read by {@link commitmentSearch} to reuse it.
 */
export function applyCommitmentFilter(
  ds: DataSource,
  qb: SelectQueryBuilder<Commitment>,
  filter: CommitmentFilter | null | undefined,
  search: ListSearch | null = commitmentSearch(ds, filter),
): SelectQueryBuilder<Commitment> {
  const f = filter ?? {};
  if (search) joinSearch(qb, search);
  if (f.actionPlanId != null) qb.andWhere('c.action_plan_id = :f_plan', { f_plan: f.actionPlanId });
  if (f.memberId != null || f.country != null) {
    const where: string[] = [];
    if (f.memberId != null) where.push('fp.member_id = :f_member');
    if (f.country != null) where.push('fp.country = :f_country');
    qb.andWhere(`c.action_plan_id IN (SELECT fp.id FROM action_plans fp WHERE ${where.join(' AND ')})`, {
      f_member: f.memberId,
      f_country: f.country != null ? countryFilter(f.country, 'filter.country') : undefined,
    });
  }
  if (f.theme != null) qb.andWhere(`${binary(ds, 'c.theme')} = :f_theme`, { f_theme: f.theme });
  if (f.policyArea != null) {
    qb.andWhere(
      `c.id IN (SELECT fpa.commitment_id FROM commitment_policy_areas fpa WHERE ${binary(ds, 'fpa.policy_area')} = :f_area)`,
      { f_area: f.policyArea },
    );
  }
  if (f.ogpValue != null) {
    qb.andWhere(
      'c.id IN (SELECT fov.commitment_id FROM commitment_ogp_values fov WHERE fov.value = :f_value)',
      { f_value: f.ogpValue },
    );
  }
  if (f.leadOrganizationId != null) {
    qb.andWhere('c.lead_organization_id = :f_lead', { f_lead: f.leadOrganizationId });
  }
  if (f.organizationId != null) {
    qb.andWhere(
      `(c.lead_organization_id = :f_org OR c.id IN (
         SELECT fso.commitment_id FROM commitment_supporting_organizations fso WHERE fso.organization_id = :f_org))`,
      { f_org: f.organizationId },
    );
  }
  inList(qb, 'c.potential_impact', f.potentialImpact, 'f_impact');
  inList(qb, 'c.completion_end_of_term', f.completionEndOfTerm, 'f_completion');
  yearRange(qb, 'c.start_date', f.startYear, 'filter.startYear');
  yearRange(qb, 'c.end_date', f.endYear, 'filter.endYear');
  return qb;
}

/** Applies an ActionPlanFilter to a query over `action_plans` aliased `p` (the search as for commitments). */
export function applyActionPlanFilter(
  ds: DataSource,
  qb: SelectQueryBuilder<ActionPlan>,
  filter: ActionPlanFilter | null | undefined,
  search: ListSearch | null = actionPlanSearch(ds, filter),
): SelectQueryBuilder<ActionPlan> {
  const f = filter ?? {};
  if (search) joinSearch(qb, search);
  if (f.memberId != null) qb.andWhere('p.member_id = :f_member', { f_member: f.memberId });
  if (f.country != null)
    qb.andWhere('p.country = :f_country', { f_country: countryFilter(f.country, 'filter.country') });
  if (f.activeIn != null) {
    qb.andWhere('p.start_year <= :f_year AND p.end_year >= :f_year', { f_year: f.activeIn });
  }
  return qb;
}
