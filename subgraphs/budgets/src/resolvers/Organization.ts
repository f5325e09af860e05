import { listFirst } from '@civic/common/pagination';
import type { OrganizationResolvers } from '../generated/resolvers-types';
import { groupSpecs, labelledGroups } from '../aggregates';

/** Organizations are owned by the organizations subgraph; this one adds their budgets. */
export const Organization: OrganizationResolvers = {
  __resolveReference: (ref) => ref,
  budgets: async (o, args, ctx, info) => {
    const first = listFirst(args.first, info);
    const budgets = await ctx.loaders.budgetsByOrganization.load(o.id);
    const asked = args.fiscalYear == null ? budgets : budgets.filter((b) => b.fiscalYear === args.fiscalYear);
    return asked.slice(0, first);
  },
  // Through loaders: a page of organizations costs one statement per distinct grouping, not one each (and
  // one for the labels of its classification keys, when it has some).
  budgetSummary: async (o, args, ctx) => {
    const { specs: groupBy, argument } = groupSpecs(args.groupBy, args.grouping);
    const summary = await ctx.loaders.summariesByOrganization.load({
      organizationId: o.id,
      groupBy,
      argument,
    });
    return labelledGroups(ctx.loaders.codeByKey, summary, groupBy, ctx.languages);
  },
};
