import { loadExisting } from '../../../../common/src/loaders';
import type { SubgraphContext } from '../../../../common/src/subgraph';
import type { BudgetLoaders } from '../loaders';

type Ctx = SubgraphContext<BudgetLoaders>;

/** Commitments are owned by the commitments subgraph; the link table to budget lines is owned here. */
export const CommitmentResolvers = {
  __resolveReference: (ref: { id: string }) => ref,
  budgetLines: async (c: { id: string }, _: unknown, ctx: Ctx) => {
    const links = await ctx.loaders.linksByCommitment.load(c.id);
    return loadExisting(
      ctx.loaders.lineById,
      links.map((l) => l.lineId),
    );
  },
};
