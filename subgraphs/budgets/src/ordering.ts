import type { SelectQueryBuilder } from 'typeorm';
import { badInput } from '@civic/common/errors';
import { toBigInt } from '@civic/common/money';
import { resolveOrderBy, type OrderTerm, type SortKey } from '@civic/common/ordering';
import {
  BUDGET_PHASES,
  BudgetAmountEntity,
  type Budget,
  type BudgetAmount,
  type BudgetLine,
  type BudgetPhase,
} from './entities/Budget';
import type { BudgetLineOrder, BudgetOrder } from './generated/resolvers-types';
import { figureColumn } from './summaries';

/**
 * What `budgets(orderBy)` can order by, over the query alias `b`. Ids are binary-collated on MySQL by
 * migration already. ID is in parentheses so that its SQL differs from the id tie-break's `b.id`: TypeORM's
 * addOrderBy keys terms by their SQL text, and an identical tie-break would replace ID DESC's direction.
 */
const BUDGET_SORT_KEYS: Record<BudgetOrder['field'], SortKey<Budget>> = {
  ID: { sql: '(b.id)', value: (b) => b.id, text: false },
  FISCAL_YEAR: { sql: 'b.fiscal_year', value: (b) => b.fiscalYear, text: false },
  ORGANIZATION: { sql: 'b.organization_id', value: (b) => b.organizationId, text: true },
};

/** Resolves `budgets(orderBy)`; runs no statement. */
export function budgetOrder(orderBy: readonly BudgetOrder[] | null | undefined): OrderTerm<Budget>[] {
  return resolveOrderBy(orderBy, BUDGET_SORT_KEYS);
}

/** The property an AMOUNT ordering maps a line's figure in a phase onto. */
const amountProperty = (phase: BudgetPhase) => `amount${phase}`;

/** The figure an AMOUNT ordering mapped onto a line (undefined: no figure in that phase). */
const figureOf = (l: BudgetLine, phase: BudgetPhase) =>
  (l as unknown as Record<string, BudgetAmount | null | undefined>)[amountProperty(phase)];

/**
 * A line's amount as a cursor value: an exact integer number of minor units. Beyond 2^53 a JavaScript number
 * is no longer exact and the cursor could skip or repeat a line, so it is refused (an internal error) rather
 * than rounded; that is 9 trillion TND in millimes.
 */
function amountValue(minor: string | number | bigint | null | undefined, lineId: string): number | null {
  if (minor == null) return null;
  const v = toBigInt(String(minor));
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`Amount ${v} of line ${lineId} is beyond the exact range of a cursor`);
  }
  return Number(v);
}

/** A line's stored figure in a phase (`budget_lines.amount_<phase>`, summaries.ts) as the entity maps it. */
const storedFigure = (l: BudgetLine, phase: BudgetPhase) =>
  ({
    PROPOSED: l.amountProposed,
    APPROVED: l.amountApproved,
    ADJUSTED: l.amountAdjusted,
    EXECUTED: l.amountExecuted,
  })[phase];

/**
 * Resolves `budgetLines(orderBy)` over a query builder on `budget_lines` aliased `l`. AMOUNT needs a phase
 * (and only AMOUNT takes one) and orders by the line's figure in its phase (the whole-year figure, else the
 * latest dated one, of the filter's measure or else the first measure, as `lineAmountSql` picks it): without a
 * measure, the figure stored on the line (`amount_<phase>`, indexed); with one, each AMOUNT term joins the
 * figure of that measure and maps it onto the line. The cursor holds the very value the rows were ordered by. The phase is part
 * of the term's name, and so of the cursor: a cursor made under AMOUNT APPROVED is refused under AMOUNT
 * EXECUTED.
 *
 * @param measure whether the filter names a measure: the join then reads the parameter `:lf_measure`, which
 *   the line filter sets (list.ts `lineConditions`).
 */
export function applyLineOrder(
  qb: SelectQueryBuilder<BudgetLine>,
  orderBy: readonly BudgetLineOrder[] | null | undefined,
  measure = false,
): OrderTerm<BudgetLine>[] {
  const keys: Record<string, SortKey<BudgetLine>> = {
    ID: { sql: '(l.id)', value: (l) => l.id, text: false },
    CODE: { sql: 'l.code', value: (l) => l.code, text: true },
    BUDGET: { sql: 'l.budget_id', value: (l) => l.budgetId, text: true },
  };
  const joins: BudgetPhase[] = [];
  const named = (orderBy ?? []).map((o) => {
    if (o.field !== 'AMOUNT') {
      if (o.phase != null) {
        throw badInput(`Argument "orderBy" gives a phase to ${o.field}: only AMOUNT takes one`, 'orderBy');
      }
      return { field: o.field as string, direction: o.direction };
    }
    if (o.phase == null) {
      throw badInput(
        'Argument "orderBy" orders by AMOUNT without a phase: say which, e.g. { field: AMOUNT, phase: APPROVED }',
        'orderBy',
      );
    }
    const phase = o.phase;
    if (!BUDGET_PHASES.includes(phase)) throw new Error(`Unknown budget phase ${String(phase)}`);
    const field = `AMOUNT_${phase}`;
    if (!keys[field] && !measure) {
      // The figure stored on the line, kept with its amounts by every writer: ORDER BY reads the index
      // (amount_<phase>, id) in order and stops after a page, instead of looking up every line's figure.
      keys[field] = {
        sql: `l.${figureColumn(phase)}`,
        value: (l) => amountValue(storedFigure(l, phase), l.id),
        text: false,
      };
    } else if (!keys[field]) {
      keys[field] = {
        sql: `amt_${phase.toLowerCase()}.amount_minor`,
        value: (l) => amountValue(figureOf(l, phase)?.amountMinor, l.id),
        text: false,
      };
      joins.push(phase);
    }
    return { field, direction: o.direction };
  });
  const terms = resolveOrderBy(named, keys);
  for (const phase of joins) {
    const alias = `amt_${phase.toLowerCase()}`;
    qb.leftJoinAndMapOne(
      `l.${amountProperty(phase)}`,
      BudgetAmountEntity.options.name,
      alias,
      `${alias}.line_id = l.id AND ${alias}.phase = '${phase}' AND (${alias}.measure, ${alias}.as_of) = (
         SELECT fo.measure, fo.as_of FROM budget_amounts fo WHERE fo.line_id = l.id AND fo.phase = '${phase}'
         ${measure ? 'AND fo.measure = :lf_measure' : ''}
         ORDER BY fo.measure, CASE WHEN fo.as_of = '' THEN 0 ELSE 1 END, fo.as_of DESC LIMIT 1)`,
    );
  }
  return terms;
}
