import { ENDS_ONLY, SourceAdjustments } from '@civic/common/import/adjust';
import type { Language } from '@civic/common/localized';
import type { DimensionSpec, ReadAttr } from './dimensions';
import { MAX_LABEL } from './limits';

/*
 * The lines' own code and labels (budget_lines.code, label_*): those of ONE classification the package
 * declares, the functional one (e.g. COFOG) if it has one, else the economic one, else the administrative
 * one, else any; every dimension, that one included, is a dimension of the fact as well (dimensions.ts).
 */

/**
 * The index of the dimension coding the lines, or null when the package declares no classification (the EU's
 * allocations: a member state and a fund), said in a warning: its lines have no code, each fact being told
 * by its dimensions.
 */
export function lineClassification(dims: readonly DimensionSpec[], warnings: string[]): number | null {
  let best: number | null = null;
  dims.forEach((d, i) => {
    if (d.rank >= 0 && (best === null || d.rank < dims[best].rank)) best = i;
  });
  if (best === null)
    warnings.push(
      'the model declares no classification dimension: lines have no code, each fact is told by its dimensions',
    );
  return best;
}

/**
 * A row's line labels: those of the line classification's most specific level, by language, the first
 * non-empty one of each, their ends trimmed (a trimmed label is recorded in `adjustments`, with its cell). A
 * label whose language is not known is not a line label (it stays the code's, in budget_codes.label): text
 * is never filed under a language it is not known to be in. A label too long for its column is left out here:
 * reading the dimension refuses it (readDimension reads the same cells).
 */
export function lineLabels(
  dim: DimensionSpec,
  read: ReadAttr,
  adjustments: SourceAdjustments = new SourceAdjustments(),
): Partial<Record<Language, string>> {
  const labels: Partial<Record<Language, string>> = {};
  for (const { attr, language } of dim.levels[dim.levels.length - 1].labels) {
    if (language === null) continue;
    const raw = read(attr);
    const v = raw.trim();
    if (!v || v.length > MAX_LABEL || labels[language] !== undefined) continue;
    labels[language] = adjustments.cleanText(raw, attr.source ?? attr.key, `labels.${language}`, ENDS_ONLY)!;
  }
  return labels;
}
