import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import {
  orderedConnection,
  resolveOrderBy,
  type OrderTerm,
  type SortKey,
} from '../../../../common/src/ordering';
import type { PageArgs } from '../../../../common/src/pagination';
import { searchScores } from '../../../../common/src/search';
import { ActionPlanEntity } from '../entities/ActionPlan';
import { CommitmentEntity } from '../entities/Commitment';
import { actionPlanSearch, applyActionPlanFilter, applyCommitmentFilter, commitmentSearch } from '../filters';
import type { QueryResolvers } from '../generated/resolvers-types';
import { ACTION_PLAN_SORT_KEYS, COMMITMENT_SORT_KEYS } from '../ordering';
import { relevance, rememberSearch, type ListSearch } from '../search';
import { checkGroupBy, MAX_GROUPS, queryStats, toGroups } from '../stats';

/**
 * A root list, filtered (and joined to its search, if any) by `qb`: in the order asked; without one, most
 * relevant first when searching (the scores, one statement, go into the cursors), else id order. The nodes
 * remember the search that found them, for their `searchHighlights`.
 */
async function searchableConnection<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs & { orderBy?: readonly { field: string; direction?: 'ASC' | 'DESC' | null }[] | null },
  keys: Record<string, SortKey<T>>,
  search: ListSearch | null,
) {
  let terms: OrderTerm<T>[] = resolveOrderBy(args.orderBy, keys);
  if (search && !terms.length)
    terms = [relevance(search, await searchScores(qb.connection.manager, search.sql))];
  const connection = await orderedConnection(qb, args, terms);
  rememberSearch(connection.nodes, search);
  return connection;
}

export const Query: QueryResolvers = {
  commitment: (_, args, ctx) => ctx.loaders.commitmentById.load(args.id),
  actionPlan: (_, args, ctx) => ctx.loaders.actionPlanById.load(args.id),

  commitments: (_, args, ctx) => {
    const search = commitmentSearch(ctx.db, args.filter);
    const qb = applyCommitmentFilter(
      ctx.db,
      ctx.db.getRepository(CommitmentEntity).createQueryBuilder('c'),
      args.filter,
      search,
    );
    return searchableConnection(qb, args, COMMITMENT_SORT_KEYS, search);
  },

  commitmentStats: async (_, args, ctx) => {
    const groupBy = checkGroupBy(args.groupBy);
    const rows = await queryStats(ctx.db, groupBy, { filter: args.filter, maxGroups: MAX_GROUPS });
    return toGroups(groupBy, rows, ctx.languages);
  },

  actionPlans: (_, args, ctx) => {
    const search = actionPlanSearch(ctx.db, args.filter);
    const qb = applyActionPlanFilter(
      ctx.db,
      ctx.db.getRepository(ActionPlanEntity).createQueryBuilder('p'),
      args.filter,
      search,
    );
    return searchableConnection(qb, args, ACTION_PLAN_SORT_KEYS, search);
  },
};
