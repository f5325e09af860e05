import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { binary } from '@civic/common/dialect';
import { countryFilter } from '@civic/common/filters';
import { MAX_YEAR, yearRange } from '@civic/common/range';
import { listSearch, type SearchSql } from '@civic/common/search';
import type { ActionPlan } from './entities/ActionPlan';
import type { Commitment } from './entities/Commitment';
import type { ActionPlanFilter, CommitmentFilter, IntRange } from './generated/resolvers-types';
import { ACTION_PLAN_SEARCH_TYPE, COMMITMENT_SEARCH_TYPE, COMMITMENT_SEARCH_WEIGHTS } from './search';

/** A year as the four-digit text an ISO 8601 date starts with. */
const yearText = (year: number) => String(year).padStart(4, '0');

/**
 * Adds `column`'s year in [min, max] to the query, for an ISO 8601 text column that may have reduced
 * precision ('2018', '2018-06', '2018-06-01'): as text, `>= '2018'` and `< '2020'` select exactly the
 * dates of 2018 and 2019 whatever their precision, and the column's index serves it. The range is checked
 * as every year range is (common/src/range.ts).
 */
function dateYearRange<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  input: IntRange | null | undefined,
  argument: string,
): void {
  const range = yearRange(input, argument);
  if (!range) return;
  const { min, max } = range;
  const name = argument.replace(/\W/g, '_');
  // A range, even one open at both ends, asks for a date in it: rows without one are left out.
  qb.andWhere(`${column} IS NOT NULL`);
  if (min != null) qb.andWhere(`${column} >= :${name}_min`, { [`${name}_min`]: yearText(min) });
  // The year after max, as text; past the last year there is nothing left to exclude.
  if (max != null && max < MAX_YEAR)
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

/**
 * Applies a CommitmentFilter to a query over `commitments` aliased `c`. Facts of other tables of this
 * subgraph (the plan's member and country, policy areas, OGP values, supporting organizations) are IN
 * subqueries inside this subgraph's own database, so the query keeps one row per commitment. The search is
 * read (BAD_USER_INPUT naming `filter.search` when it cannot be searched) but not joined: it is returned,
 * null without one, for `searchableConnection` or `joinSearch` to join (one row per commitment found).
 */
export function applyCommitmentFilter(
  ds: DataSource,
  qb: SelectQueryBuilder<Commitment>,
  filter: CommitmentFilter | null | undefined,
): SearchSql | null {
  const f = filter ?? {};
  const search = listSearch(ds, COMMITMENT_SEARCH_TYPE, f.search, { weights: COMMITMENT_SEARCH_WEIGHTS });
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
  // A lead is the first institution of the lead cell or a further one (commitment_co_lead_organizations).
  if (f.leadOrganizationId != null) {
    qb.andWhere(
      `(c.lead_organization_id = :f_lead OR c.id IN (
         SELECT fcl.commitment_id FROM commitment_co_lead_organizations fcl WHERE fcl.organization_id = :f_lead))`,
      { f_lead: f.leadOrganizationId },
    );
  }
  if (f.organizationId != null) {
    qb.andWhere(
      `(c.lead_organization_id = :f_org OR c.id IN (
         SELECT fcl.commitment_id FROM commitment_co_lead_organizations fcl WHERE fcl.organization_id = :f_org
         UNION
         SELECT fso.commitment_id FROM commitment_supporting_organizations fso WHERE fso.organization_id = :f_org))`,
      { f_org: f.organizationId },
    );
  }
  inList(qb, 'c.potential_impact', f.potentialImpact, 'f_impact');
  inList(qb, 'c.completion_end_of_term', f.completionEndOfTerm, 'f_completion');
  dateYearRange(qb, 'c.start_date', f.startYear, 'filter.startYear');
  dateYearRange(qb, 'c.end_date', f.endYear, 'filter.endYear');
  return search;
}

/** Applies an ActionPlanFilter to a query over `action_plans` aliased `p`; the search as for commitments. */
export function applyActionPlanFilter(
  ds: DataSource,
  qb: SelectQueryBuilder<ActionPlan>,
  filter: ActionPlanFilter | null | undefined,
): SearchSql | null {
  const f = filter ?? {};
  const search = listSearch(ds, ACTION_PLAN_SEARCH_TYPE, f.search);
  if (f.memberId != null) qb.andWhere('p.member_id = :f_member', { f_member: f.memberId });
  if (f.country != null)
    qb.andWhere('p.country = :f_country', { f_country: countryFilter(f.country, 'filter.country') });
  if (f.activeIn != null) {
    qb.andWhere('p.start_year <= :f_year AND p.end_year >= :f_year', { f_year: f.activeIn });
  }
  return search;
}
