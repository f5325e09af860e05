import type { BudgetDirection } from '../../entities/Budget';
import { DIRECTION_CODE, type FactDimension } from '../../facts';

/*
 * The Tunisian municipal budget nomenclature as the ODMunicipalityTools files write it: a line's code is its
 * Titre.Article.Paragraphe.Sous_paragraphe (leading zeros kept), its label the Arabic Imputation; and the ids
 * the budgets subgraph gives a municipality's budgets and lines.
 */

/** The columns whose values, joined by dots, are a line's code (Titre.Article.Paragraphe.Sous_paragraphe). */
export const KEY_COLUMNS = ['Titre', 'Article', 'Paragraphe', 'Sous_paragraphe'] as const;
/** The line's label (Arabic). */
export const LABEL_COLUMN = 'Imputation';
/** The classification every line of these files is in (BudgetLine.classification). */
export const CLASSIFICATION = 'tn-municipal-budget-nomenclature';
/** Tunisian budgets are in dinars; amounts are integer millimes (TND has three decimals). */
export const CURRENCY = 'TND';

/** The budget of a municipality for a year: `tn-34012-2018`. */
export const tnBudgetId = (municipalityCode: string, year: number) => `tn-${municipalityCode}-${year}`;

/** A line of that budget: `tn-34012-2018-EXP-1.01100.0001.000`. */
export const tnLineId = (municipalityCode: string, year: number, direction: BudgetDirection, code: string) =>
  `${tnBudgetId(municipalityCode, year)}-${DIRECTION_CODE[direction]}-${code}`;

/** The one dimension of a Tunisian line, as a fact sees it. */
export const NOMENCLATURE_DIMENSION = 'nomenclature';

/**
 * A line's dimension: its code in the nomenclature, an economic classification of four levels (Titre, Article,
 * Paragraphe, Sous-paragraphe: `1`, `1.01101`, `1.01101.0001`, `1.01101.0001.000`). The files label detail
 * lines only, and a code's label may change from a year to the next: labels stay on the lines, the dictionary
 * holds the codes and their parents.
 */
export function nomenclatureDimension(code: string): FactDimension {
  const parts = code.split('.');
  return {
    dimension: NOMENCLATURE_DIMENSION,
    type: 'ECONOMIC',
    scheme: CLASSIFICATION,
    levels: parts.map((_, i) => ({ code: parts.slice(0, i + 1).join('.') })),
  };
}

/** A row's line code, or why it has none. */
export type LineCode =
  { ok: true; code: string } | { ok: false; column: string; value: string; reason: string };

/**
 * The line code of a row (Titre.Article.Paragraphe.Sous_paragraphe as written, leading zeros kept, end spaces
 * trimmed), or the first code column that is empty or not digits (`Titre "" is not a numeric code part`).
 */
export function lineCode(cells: Readonly<Record<string, string | undefined>>): LineCode {
  const parts: string[] = [];
  for (const column of KEY_COLUMNS) {
    const raw = cells[column] ?? '';
    const v = raw.trim();
    if (!/^\d+$/.test(v))
      return {
        ok: false,
        column,
        value: raw,
        reason: `${column} ${JSON.stringify(raw)} is not a numeric code part`,
      };
    parts.push(v);
  }
  return { ok: true, code: parts.join('.') };
}

/**
 * The direction a line code's shape tells: expenditure Paragraphe and Sous_paragraphe have 4 and 3 digits,
 * revenue 2 and 2; null for any other shape. The long-format file holds both directions and says neither.
 */
export function directionOfCodeShape(code: string): BudgetDirection | null {
  const [, , paragraphe = '', sous = ''] = code.split('.');
  if (paragraphe.length === 4 && sous.length === 3) return 'EXPENDITURE';
  if (paragraphe.length === 2 && sous.length === 2) return 'REVENUE';
  return null;
}
