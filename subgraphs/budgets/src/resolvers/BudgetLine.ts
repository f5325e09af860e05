import { bestText, readLocalized } from '../../../../common/src/localized';
import { money } from '../../../../common/src/money';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef, type SubgraphContext } from '../../../../common/src/subgraph';
import type { BudgetLine } from '../entities/Budget';
import type { BudgetLoaders } from '../loaders';

type Ctx = SubgraphContext<BudgetLoaders>;

export const BudgetLineResolvers = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.lineById.load(ref.id),
  budget: (l: BudgetLine, _: unknown, ctx: Ctx) => ctx.loaders.budgetById.load(l.budgetId),
  label: (l: BudgetLine) => bestText(readLocalized(l, 'label')) ?? l.code,
  labels: (l: BudgetLine) => readLocalized(l, 'label'),
  amounts: async (l: BudgetLine, _: unknown, ctx: Ctx) => {
    const [budget, amounts] = await Promise.all([
      ctx.loaders.budgetById.load(l.budgetId),
      ctx.loaders.amountsByLine.load(l.id),
    ]);
    if (!budget) return [];
    return amounts.map((a) => ({
      phase: a.phase,
      amount: money(a.amountMinor, budget.currency),
      asOf: a.asOf || null,
    }));
  },
  commitments: async (l: BudgetLine, _: unknown, ctx: Ctx) =>
    (await ctx.loaders.linksByLine.load(l.id)).map((k) => entityRef('Commitment', k.commitmentId)),
  source: (l: BudgetLine) => toProvenance(l),
};
