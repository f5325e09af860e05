import { loadExisting } from '@civic/common/loaders';
import { listFirst } from '@civic/common/pagination';
import type { CommitmentResolvers } from '../generated/resolvers-types';
import { toAmounts } from '../aggregates';

/** Commitments are owned by the commitments subgraph; the link table to budget lines is owned here. */
export const Commitment: CommitmentResolvers = {
  __resolveReference: (ref) => ref,
  // A link whose line is gone is not listed: `first` counts the lines that exist.
  budgetLines: async (c, args, ctx, info) => {
    const first = listFirst(args.first, info);
    const links = await ctx.loaders.linksByCommitment.load(c.id);
    const lines = await loadExisting(
      ctx.loaders.lineById,
      links.map((l) => l.lineId),
    );
    return lines.slice(0, first);
  },
  budgetLinks: async (c, args, ctx, info) => {
    const first = listFirst(args.first, info);
    const links = await ctx.loaders.linksByCommitment.load(c.id);
    const lines = await ctx.loaders.lineById.loadMany(links.map((l) => l.lineId));
    return links
      .filter((_, i) => {
        const line = lines[i];
        return line !== null && !(line instanceof Error);
      })
      .slice(0, first);
  },
  funding: async (c, _, ctx) =>
    (await ctx.loaders.fundingByCommitment.load(c.id)).flatMap((f) => toAmounts(f.totals, f.currency)),
};
