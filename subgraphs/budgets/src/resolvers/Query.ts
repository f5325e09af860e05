import { badInput } from '@civic/common/errors';
import { toPage } from '@civic/common/pagination';
import { yearRange } from '@civic/common/range';
import { searchableConnection } from '@civic/common/search';
import { BudgetEntity, BudgetLineEntity } from '../entities/Budget';
import type { QueryResolvers } from '../generated/resolvers-types';
import {
  amountBounds,
  applyLineFilter,
  filterCurrencies,
  lineFilter,
  needsCurrencies,
  type LineFilter,
} from '../list';
import { applyLineOrder, budgetOrder } from '../ordering';
import { lineSearchSql } from '../search';
import { aggregateLines, groupSpecs, labelledGroups, summaryRows } from '../aggregates';
import type { Context } from '../context';

/** A filter's amount bounds in the currencies of the budgets it can match (one statement, only if needed). */
async function boundsFor(ctx: Context, f: LineFilter) {
  return needsCurrencies(f) ? amountBounds(f, await filterCurrencies(ctx.db, f)) : [];
}

export const Query: QueryResolvers = {
  budget: (_, args, ctx) => ctx.loaders.budgetById.load(args.id),
  budgetLine: (_, args, ctx) => ctx.loaders.lineById.load(args.id),
  budgets: (_, args, ctx) => {
    const qb = ctx.db.getRepository(BudgetEntity).createQueryBuilder('b');
    const f = args.filter ?? {};
    const terms = budgetOrder(args.orderBy);
    const years = yearRange(f.fiscalYears, 'filter.fiscalYears');
    if (f.organizationId != null) qb.andWhere('b.organization_id = :org', { org: f.organizationId });
    if (f.fiscalYear != null) qb.andWhere('b.fiscal_year = :year', { year: f.fiscalYear });
    if (years?.min != null) qb.andWhere('b.fiscal_year >= :yearMin', { yearMin: years.min });
    if (years?.max != null) qb.andWhere('b.fiscal_year <= :yearMax', { yearMax: years.max });
    if (f.currency != null) {
      if (!/^[A-Za-z]{3}$/.test(f.currency)) {
        throw badInput(
          `Argument "filter.currency" must be an ISO 4217 code such as "TND"; got "${f.currency}"`,
          'filter.currency',
        );
      }
      qb.andWhere('b.currency = :currency', { currency: f.currency.toUpperCase() });
    }
    // Budgets cannot be searched: the same list helper, without a search.
    return searchableConnection(qb, args, terms, null);
  },
  budgetLines: async (_, args, ctx) => {
    // Arguments are checked before any statement runs: a bad one is refused with its name, nothing queried.
    toPage({ first: args.first });
    const f = lineFilter(args.filter);
    const qb = ctx.db.getRepository(BudgetLineEntity).createQueryBuilder('l');
    const terms = applyLineOrder(qb, args.orderBy, f.measure !== null);
    // The search is left to searchableConnection, which joins it (most relevant first without an order).
    applyLineFilter(qb, f, await boundsFor(ctx, f), { searchJoined: true });
    return searchableConnection(qb, args, terms, f.search && lineSearchSql(ctx.db, f.search));
  },
  budgetSummary: async (_, args, ctx) => {
    const { specs: groupBy, argument } = groupSpecs(args.groupBy, args.grouping);
    const f = lineFilter(args.filter);
    const bounds = await boundsFor(ctx, f);
    const [rows, aggregates] = await Promise.all([
      summaryRows(ctx.db, { filter: f, bounds, groupBy }, argument),
      aggregateLines(ctx.db, { filter: f, groupBy }),
    ]);
    return labelledGroups(ctx.loaders.codeByKey, { rows, aggregates }, groupBy, ctx.languages);
  },
};
