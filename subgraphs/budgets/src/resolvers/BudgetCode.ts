import { fromLanguageEnum, languageOrder } from '@civic/common/language';
import { chooseLabel, entryLabels } from '../classifications';
import type { BudgetCodeResolvers } from '../generated/resolvers-types';

/** A code of a scheme with its dictionary entry, already loaded (BudgetClassification.ancestors). */
export const BudgetCode: BudgetCodeResolvers = {
  scheme: (c) => c.scheme,
  code: (c) => c.code,
  level: (c) => c.level,
  label: (c, args, ctx) =>
    chooseLabel(
      entryLabels(c.entry),
      c.entry?.sourceLabel ?? null,
      languageOrder(ctx.languages, fromLanguageEnum(args.lang)),
    ),
  labels: (c) => entryLabels(c.entry),
  sourceLabel: (c) => c.entry?.sourceLabel ?? null,
};
