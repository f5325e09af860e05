import type { SubgraphContext } from '../../../../common/src/subgraph';
import type { BudgetLoaders } from '../loaders';

type Ctx = SubgraphContext<BudgetLoaders>;

/** Organizations are owned by the organizations subgraph; this one adds their budgets. */
export const OrganizationResolvers = {
  __resolveReference: (ref: { id: string }) => ref,
  budgets: async (o: { id: string }, args: { fiscalYear?: number | null }, ctx: Ctx) => {
    const budgets = await ctx.loaders.budgetsByOrganization.load(o.id);
    return args.fiscalYear == null ? budgets : budgets.filter((b) => b.fiscalYear === args.fiscalYear);
  },
};
