import { money } from '../../../../common/src/money';
import { loadChildConnection, type PageArgs } from '../../../../common/src/pagination';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef, type SubgraphContext } from '../../../../common/src/subgraph';
import type { Budget, BudgetDirection, BudgetPhase } from '../entities/Budget';
import type { BudgetLoaders, LineFilter } from '../loaders';

type Ctx = SubgraphContext<BudgetLoaders>;

export const BudgetResolvers = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.budgetById.load(ref.id),
  organization: (b: Budget) => entityRef('Organization', b.organizationId),
  lines: (
    b: Budget,
    args: PageArgs & { filter?: { direction?: BudgetDirection | null; codePrefix?: string | null } | null },
    ctx: Ctx,
  ) => {
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
  total: async (b: Budget, args: { direction: BudgetDirection; phase: BudgetPhase }, ctx: Ctx) => {
    const minor = await ctx.loaders.totals.load({
      budgetId: b.id,
      direction: args.direction,
      phase: args.phase,
    });
    return minor === null ? null : money(minor, b.currency);
  },
  source: (b: Budget) => toProvenance(b),
};
