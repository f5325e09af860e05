import { money } from '../../../../common/src/money';
import { loadChildConnection } from '../../../../common/src/pagination';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef } from '../../../../common/src/subgraph';
import type { BudgetResolvers } from '../generated/resolvers-types';
import type { LineFilter } from '../loaders';

export const Budget: BudgetResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.budgetById.load(ref.id),
  organization: (b) => entityRef('Organization', b.organizationId),
  lines: (b, args, ctx) => {
    const filter: LineFilter = {
      direction: args.filter?.direction ?? null,
      codePrefix: args.filter?.codePrefix || null,
    };
    return loadChildConnection(
      {
        pages: ctx.loaders.linePagesByBudget,
        counts: ctx.loaders.lineCountsByBudget,
        nodes: ctx.loaders.lineById,
      },
      b.id,
      args,
      filter,
      (l) => l.id,
    );
  },
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
