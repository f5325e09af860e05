import type { SortKey } from '@civic/common/ordering';
import { COMPLETION, POTENTIAL_IMPACT } from '@civic/formats/vocabulary';
import type { ActionPlan } from './entities/ActionPlan';
import type { Commitment } from './entities/Commitment';
import type { ActionPlanOrderField, CommitmentOrderField } from './generated/resolvers-types';

/** A value's position on its scale (0 for the first), null for no value or one off the scale. */
export function scaleRank(scale: readonly string[], value: string | null | undefined): number | null {
  const i = value == null ? -1 : scale.indexOf(value);
  return i < 0 ? null : i;
}

/**
 * The SQL of {@link scaleRank}: a CASE over the scale's values, so an IRM scale sorts in its own order
 * (NONE < MINOR < MODERATE < TRANSFORMATIVE), not alphabetically.
 */
export function scaleRankSql(scale: readonly string[], column: string): string {
  return `CASE ${column} ${scale.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE NULL END`;
}

const text = <T>(sql: string, value: (row: T) => string | null): SortKey<T> => ({ sql, value, text: true });
const rank = (scale: readonly string[], column: string, value: (c: Commitment) => string | null) => ({
  sql: scaleRankSql(scale, column),
  value: (c: Commitment) => scaleRank(scale, value(c)),
  text: false,
});

/**
 * What `commitments(orderBy:)` can order by, over the query alias `c`. Dates are ISO 8601 text of any
 * precision, which sorts as dates do ('2018' < '2018-06' < '2018-06-01' < '2019').
 */
export const COMMITMENT_SORT_KEYS: Record<CommitmentOrderField, SortKey<Commitment>> = {
  // Ids are binary-collated on MySQL by migration already: the primary key index serves them as they are.
  ID: { sql: 'c.id', value: (c) => c.id, text: false },
  START_DATE: text('c.start_date', (c) => c.startDate),
  END_DATE: text('c.end_date', (c) => c.endDate),
  TITLE: text('c.title', (c) => c.title),
  ACTION_PLAN: text('c.action_plan_id', (c) => c.actionPlanId),
  POTENTIAL_IMPACT: rank(POTENTIAL_IMPACT, 'c.potential_impact', (c) => c.potentialImpact),
  COMPLETION_END_OF_TERM: rank(COMPLETION, 'c.completion_end_of_term', (c) => c.completionEndOfTerm),
};

/** What `actionPlans(orderBy:)` can order by, over the query alias `p`. */
export const ACTION_PLAN_SORT_KEYS: Record<ActionPlanOrderField, SortKey<ActionPlan>> = {
  ID: { sql: 'p.id', value: (p) => p.id, text: false },
  START_YEAR: { sql: 'p.start_year', value: (p) => p.startYear, text: false },
  END_YEAR: { sql: 'p.end_year', value: (p) => p.endYear, text: false },
  SUBMITTED_ON: text('p.submitted_on', (p) => p.submittedOn),
};
