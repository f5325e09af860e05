import { fromLanguageEnum, languageOrder } from '@civic/common/language';
import {
  chooseLabel,
  classificationLabels,
  pathCodes,
  type ClassificationModel,
  type CodeEntry,
} from '../classifications';
import { listFirst } from '@civic/common/pagination';
import type { BudgetClassificationResolvers } from '../generated/resolvers-types';
import type { Context } from '../context';

/** The dictionary entry of a classification's own code, through the request's code loader (batched). */
const entryOf = (c: ClassificationModel, ctx: Context): Promise<CodeEntry | null> =>
  ctx.loaders.codeByKey.load({ scheme: c.row.scheme, code: c.row.code });

/** A line's value in one of its dimensions (a row of budget_line_dimensions, with its line). */
export const BudgetClassification: BudgetClassificationResolvers = {
  type: (c) => c.row.type,
  dimension: (c) => c.row.dimension,
  scheme: (c) => c.row.scheme,
  code: (c) => c.row.code,
  level: (c) => c.row.depth,
  label: async (c, args, ctx) => {
    const { labels, sourceLabel } = classificationLabels(c, await entryOf(c, ctx));
    return chooseLabel(labels, sourceLabel, languageOrder(ctx.languages, fromLanguageEnum(args.lang)));
  },
  labels: async (c, _, ctx) => classificationLabels(c, await entryOf(c, ctx)).labels,
  sourceLabel: async (c, _, ctx) => classificationLabels(c, await entryOf(c, ctx)).sourceLabel,
  // The levels above the code are in its path: their entries come through the same loader as every label.
  ancestors: async (c, args, ctx, info) => {
    const codes = pathCodes(c.row).slice(0, -1).slice(0, listFirst(args.first, info));
    const entries = await ctx.loaders.codeByKey.loadMany(
      codes.map((code) => ({ scheme: c.row.scheme, code })),
    );
    return codes.map((code, i) => {
      const entry = entries[i];
      if (entry instanceof Error) throw entry;
      return { scheme: c.row.scheme, code, level: i + 1, entry };
    });
  },
};
