import type { OrganizationResolvers } from '../generated/resolvers-types';

/** Organizations are owned by the organizations subgraph; this one adds their budgets. */
export const Organization: OrganizationResolvers = {
  __resolveReference: (ref) => ref,
  budgets: async (o, args, ctx) => {
    const budgets = await ctx.loaders.budgetsByOrganization.load(o.id);
    return args.fiscalYear == null ? budgets : budgets.filter((b) => b.fiscalYear === args.fiscalYear);
  },
};
