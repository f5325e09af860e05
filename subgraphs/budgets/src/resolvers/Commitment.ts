import { loadExisting } from '@civic/common/loaders';
import type { CommitmentResolvers } from '../generated/resolvers-types';
import { toAmounts } from '../aggregates';

/** Commitments are owned by the commitments subgraph; the link table to budget lines is owned here. */
export const Commitment: CommitmentResolvers = {
  __resolveReference: (ref) => ref,
  budgetLines: async (c, _, ctx) => {
    const links = await ctx.loaders.linksByCommitment.load(c.id);
    return loadExisting(
      ctx.loaders.lineById,
      links.map((l) => l.lineId),
    );
  },
  budgetLinks: async (c, _, ctx) => {
    const links = await ctx.loaders.linksByCommitment.load(c.id);
    const lines = await ctx.loaders.lineById.loadMany(links.map((l) => l.lineId));
    return links.filter((_, i) => {
      const line = lines[i];
      return line !== null && !(line instanceof Error);
    });
  },
  funding: async (c, _, ctx) =>
    (await ctx.loaders.fundingByCommitment.load(c.id)).flatMap((f) => toAmounts(f.totals, f.currency)),
};
