import type { OrganizationResolvers } from '../generated/resolvers-types';
import { checkGroupBy } from '@civic/common/aggregates';
import { toBudgetGroups } from '../aggregates';

/** Organizations are owned by the organizations subgraph; this one adds their budgets. */
export const Organization: OrganizationResolvers = {
  __resolveReference: (ref) => ref,
  budgets: async (o, args, ctx) => {
    const budgets = await ctx.loaders.budgetsByOrganization.load(o.id);
    return args.fiscalYear == null ? budgets : budgets.filter((b) => b.fiscalYear === args.fiscalYear);
  },
  // Through a loader: a page of organizations costs one statement per distinct groupBy, not one each.
  budgetSummary: async (o, args, ctx) => {
    const groupBy = checkGroupBy(args.groupBy);
    const summary = await ctx.loaders.summariesByOrganization.load({ organizationId: o.id, groupBy });
    return toBudgetGroups(summary, groupBy, ctx.languages);
  },
};
