import { badInput } from '../../../../common/src/errors';
import { orderedConnection } from '../../../../common/src/ordering';
import { toPage } from '../../../../common/src/pagination';
import { relevanceOrder, searchScores } from '../../../../common/src/search';
import { BudgetEntity, BudgetLineEntity } from '../entities/Budget';
import type { QueryResolvers } from '../generated/resolvers-types';
import {
  amountBounds,
  applyLineFilter,
  filterCurrencies,
  intRange,
  lineFilter,
  needsCurrencies,
  type LineFilter,
} from '../line-filter';
import { applyLineOrder, budgetOrder } from '../ordering';
import { lineSearchSql, markFound, relevanceField, SEARCH_ALIAS } from '../search';
import { aggregateLines, checkGroupBy, summarize, toBudgetGroups } from '../summary';
import type { BudgetsContext } from '../server';

/** A filter's amount bounds in the currencies of the budgets it can match (one statement, only if needed). */
async function boundsFor(ctx: BudgetsContext, f: LineFilter) {
  return needsCurrencies(f) ? amountBounds(f, await filterCurrencies(ctx.db, f)) : [];
}

export const Query: QueryResolvers = {
  budget: (_, args, ctx) => ctx.loaders.budgetById.load(args.id),
  budgetLine: (_, args, ctx) => ctx.loaders.lineById.load(args.id),
  budgets: (_, args, ctx) => {
    const qb = ctx.db.getRepository(BudgetEntity).createQueryBuilder('b');
    const f = args.filter ?? {};
    const terms = budgetOrder(args.orderBy);
    const years = intRange(f.fiscalYears, 'filter.fiscalYears');
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
    return orderedConnection(qb, args, terms);
  },
  budgetLines: async (_, args, ctx) => {
    // Arguments are checked before any statement runs: a bad one is refused with its name, nothing queried.
    toPage({ first: args.first });
    const f = lineFilter(args.filter);
    const qb = ctx.db.getRepository(BudgetLineEntity).createQueryBuilder('l');
    const terms = applyLineOrder(qb, args.orderBy);
    // Searched without an order: most relevant first. The search is joined (its score orders the rows) and
    // run once more on its own for the scores that go into the cursors; with an order, it only filters.
    const relevance = f.search !== null && !terms.length;
    applyLineFilter(qb, f, await boundsFor(ctx, f), { searchJoined: relevance });
    if (relevance) {
      const search = lineSearchSql(ctx.db, f.search!);
      qb.innerJoin(`(${search.sql})`, SEARCH_ALIAS, `${SEARCH_ALIAS}.entity_id = l.id`, search.parameters);
      const scores = await searchScores(ctx.db.manager, search);
      terms.push({ ...relevanceOrder(SEARCH_ALIAS, scores), field: relevanceField(f.search!) });
    }
    const connection = await orderedConnection(qb, args, terms);
    // Each node carries the search that found it, for its highlights (none without a search).
    const nodes = markFound(connection.nodes, f.search);
    return { ...connection, nodes, edges: connection.edges.map((e, i) => ({ ...e, node: nodes[i] })) };
  },
  budgetSummary: async (_, args, ctx) => {
    const groupBy = checkGroupBy(args.groupBy);
    const f = lineFilter(args.filter);
    const bounds = await boundsFor(ctx, f);
    const [rows, aggregates] = await Promise.all([
      summarize(ctx.db, { filter: f, bounds, groupBy }),
      aggregateLines(ctx.db, { filter: f, groupBy }),
    ]);
    return toBudgetGroups({ rows, aggregates }, groupBy, ctx.languages);
  },
};
