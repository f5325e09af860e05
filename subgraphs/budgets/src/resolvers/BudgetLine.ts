import { fromLanguageEnum, languageOrder } from '@civic/common/language';
import { bestText, readLocalized } from '@civic/common/localized';
import { money } from '@civic/common/money';
import { listFirst } from '@civic/common/pagination';
import { toProvenance, type Provenance } from '@civic/common/provenance';
import { foundBy, foundHighlights } from '@civic/common/search';
import { entityRef } from '@civic/common/subgraph';
import type { BudgetAmount, BudgetLine as BudgetLineModel } from '../entities/Budget';
import type { BudgetLineResolvers } from '../generated/resolvers-types';
import { rowCodes } from '../classifications';
import { classificationSearchText, holdsEveryTerm, lineSearchText } from '../search';

export const BudgetLine: BudgetLineResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.lineById.load(ref.id),
  budget: async (l, _, ctx) => {
    const budget = await ctx.loaders.budgetById.load(l.budgetId);
    // The budget is a row of this subgraph's own database; a missing one is broken data, named in the log
    // (clients see a masked internal error, as they would for the null this non-null field cannot return).
    if (!budget) throw new Error(`Budget line ${l.id} refers to budget ${l.budgetId}, which does not exist`);
    return budget;
  },
  label: (l, args, ctx) =>
    bestText(readLocalized(l, 'label'), languageOrder(ctx.languages, fromLanguageEnum(args.lang))) ?? l.code,
  labels: (l) => readLocalized(l, 'label'),
  // One statement for the dimension rows of every line of the response (their labels: one more, batched).
  classifications: async (l, args, ctx, info) => {
    const first = listFirst(args.first, info);
    const rows = await ctx.loaders.dimensionsByLine.load(l.id);
    return rows
      .filter((row) => args.type == null || row.type === args.type)
      .slice(0, first)
      .map((row) => ({ line: l, row }));
  },
  amounts: async (l, args, ctx, info) => {
    const first = listFirst(args.first, info);
    const [budget, amounts] = await Promise.all([
      ctx.loaders.budgetById.load(l.budgetId),
      ctx.loaders.amountsByLine.load(l.id),
    ]);
    if (!budget) return [];
    return amounts.slice(0, first).map((a) => ({
      phase: a.phase,
      amount: money(a.amountMinor, budget.currency),
      asOf: a.asOf || null,
      source: amountProvenance(l, a),
      sourceColumn: a.sourceColumn,
      measure: a.measure || null,
    }));
  },
  commitments: async (l, args, ctx, info) => {
    const first = listFirst(args.first, info);
    return (await ctx.loaders.linksByLine.load(l.id))
      .slice(0, first)
      .map((k) => entityRef('Commitment', k.commitmentId));
  },
  source: (l) => toProvenance(l),
  // Computed from the row and the search of the list that found it, labels in the request's order: no SQL.
  // A line its own labels do not explain was found by its classification labels: those are read through the
  // loaders (two statements for every such line of the page) and highlighted after its own.
  searchHighlights: async (l, _, ctx) => {
    const search = foundBy(l);
    if (!search) return [];
    const own = lineSearchText(l, ctx.languages);
    if (holdsEveryTerm(own, search)) return foundHighlights(l, own);
    const rows = await ctx.loaders.dimensionsByLine.load(l.id);
    const entries = (await ctx.loaders.codeByKey.loadMany(rowCodes(rows))).map((e) => {
      if (e instanceof Error) throw e;
      return e;
    });
    return foundHighlights(l, { ...own, ...classificationSearchText(entries, ctx.languages) });
  },
};

/**
 * A figure's provenance: its own file, checksum, line, record and import time (see BudgetAmount.sourceRecord),
 * with its line's dataset, URL and licence. A figure is a number: nothing of it is adjusted.
 */
function amountProvenance(l: BudgetLineModel, a: BudgetAmount): Provenance {
  return toProvenance({
    ...l,
    sourceRecord: a.sourceRecord,
    sourceFile: a.sourceFile,
    sourceChecksum: a.sourceChecksum,
    sourceLine: a.sourceLine,
    importedAt: a.importedAt,
    rowDigest: null,
    sourceAdjustments: null,
  });
}
