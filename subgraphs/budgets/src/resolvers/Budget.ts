import { money } from '@civic/common/money';
import { loadChildConnection } from '@civic/common/pagination';
import { toProvenance } from '@civic/common/provenance';
import { entityRef } from '@civic/common/subgraph';
import type { BudgetResolvers } from '../generated/resolvers-types';
import { amountBounds, lineFilter } from '../list';
import { loadSearchedLines, type LinesVariant } from '../loaders';

export const Budget: BudgetResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.budgetById.load(ref.id),
  organization: (b) => entityRef('Organization', b.organizationId),
  lines: (b, args, ctx) => {
    const filter = lineFilter(args.filter);
    // This budget's currency is known: the amount bounds are in its minor units, no statement needed.
    const variant: LinesVariant = { filter, bounds: amountBounds(filter, [b.currency]) };
    // Searched: most relevant first, each node carrying the search for its highlights. Else id order.
    if (filter.search) return loadSearchedLines(ctx.loaders, b.id, args, variant);
    return loadChildConnection(
      {
        pages: ctx.loaders.linePagesByBudget,
        counts: ctx.loaders.lineCountsByBudget,
        nodes: ctx.loaders.lineById,
      },
      b.id,
      args,
      variant,
      (l) => l.id,
    );
  },
  // Through a loader: a page of budgets costs one statement per direction, not one each.
  total: async (b, args, ctx) => {
    const minor = await ctx.loaders.totals.load({
      budgetId: b.id,
      direction: args.direction,
      phase: args.phase,
    });
    return minor === null ? null : money(minor, b.currency);
  },
  source: (b) => toProvenance(b),
};
