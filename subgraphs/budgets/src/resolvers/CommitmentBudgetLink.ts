import { money } from '@civic/common/money';
import { toProvenance } from '@civic/common/provenance';
import type { CommitmentBudgetLinkResolvers } from '../generated/resolvers-types';

/** A commitment ↔ budget line link, as its import wrote it (Commitment.budgetLinks lists only links to existing lines). */
export const CommitmentBudgetLink: CommitmentBudgetLinkResolvers = {
  budgetLine: async (k, _, ctx) => {
    const line = await ctx.loaders.lineById.load(k.lineId);
    // Commitment.budgetLinks leaves out links to missing lines, and pruning a line deletes its links.
    if (!line) throw new Error(`Link ${k.commitmentId} → ${k.lineId} refers to a line that does not exist`);
    return line;
  },
  amount: async (k, _, ctx) => {
    if (k.amountMinor === null || k.amountMinor === undefined) return null;
    const line = await ctx.loaders.lineById.load(k.lineId);
    const budget = line && (await ctx.loaders.budgetById.load(line.budgetId));
    return budget ? money(k.amountMinor, budget.currency) : null;
  },
  share: (k) => k.share,
  note: (k) => k.note,
  reference: (k) => k.reference,
  source: (k) => toProvenance(k),
};
