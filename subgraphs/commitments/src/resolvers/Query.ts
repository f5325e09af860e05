import { resolveOrderBy } from '@civic/common/ordering';
import { searchableConnection } from '@civic/common/search';
import { ActionPlanEntity } from '../entities/ActionPlan';
import { CommitmentEntity } from '../entities/Commitment';
import { applyActionPlanFilter, applyCommitmentFilter } from '../list';
import type { QueryResolvers } from '../generated/resolvers-types';
import { ACTION_PLAN_SORT_KEYS, COMMITMENT_SORT_KEYS } from '../ordering';
import { checkGroupBy } from '@civic/common/aggregates';
import { MAX_GROUPS, queryStats, toGroups } from '../aggregates';

export const Query: QueryResolvers = {
  commitment: (_, args, ctx) => ctx.loaders.commitmentById.load(args.id),
  actionPlan: (_, args, ctx) => ctx.loaders.actionPlanById.load(args.id),

  // Root lists: arguments checked before any statement; in the order asked, else most relevant first when
  // searched, else id order; nodes remember their search for searchHighlights (common/src/search/).
  commitments: (_, args, ctx) => {
    const qb = ctx.db.getRepository(CommitmentEntity).createQueryBuilder('c');
    const terms = resolveOrderBy(args.orderBy, COMMITMENT_SORT_KEYS);
    const search = applyCommitmentFilter(ctx.db, qb, args.filter);
    return searchableConnection(qb, args, terms, search);
  },

  commitmentStats: async (_, args, ctx) => {
    const groupBy = checkGroupBy(args.groupBy);
    const rows = await queryStats(ctx.db, groupBy, { filter: args.filter, maxGroups: MAX_GROUPS });
    return toGroups(groupBy, rows, ctx.languages);
  },

  actionPlans: (_, args, ctx) => {
    const qb = ctx.db.getRepository(ActionPlanEntity).createQueryBuilder('p');
    const terms = resolveOrderBy(args.orderBy, ACTION_PLAN_SORT_KEYS);
    const search = applyActionPlanFilter(ctx.db, qb, args.filter);
    return searchableConnection(qb, args, terms, search);
  },
};
