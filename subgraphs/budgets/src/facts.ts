import { createHash } from 'node:crypto';
import type { LocalizedText } from '@civic/common/localized';
import {
  STORED_LEVELS,
  type BudgetDirection,
  type BudgetLineDimension,
  type ClassificationType,
} from './entities/Budget';

/*
 * A budget line is a fact: its amounts, and its value in every dimension its source declares (classifications,
 * payee, geography, period...). This file is the one place that turns a fact's dimension values into the rows
 * of budget_line_dimensions and budget_codes, and that names a fact (its id), for every importer and the
 * synthetic data alike.
 */

/** Separates the level codes of `budget_line_dimensions.path` (a code never holds it: it is a control character). */
export const PATH_SEPARATOR = '\u001f';

/** A code of one level of a dimension, with its labels as the source gives them. */
export interface LevelCode {
  code: string;
  /** Labels by language, as the source names them. */
  labels?: Partial<LocalizedText>;
  /** A label whose language the source does not say. */
  label?: string | null;
}

/** A fact's value in one dimension: the codes of its levels, from the top. */
export interface FactDimension {
  /** The dimension's name in the source (`economic`, `administrative`, `payee`). */
  dimension: string;
  type: ClassificationType;
  /** The code scheme: `cofog`, `tn-municipal-budget-nomenclature`, `fdp:<package>:<dimension>`. */
  scheme: string;
  /** The level codes, top first; the last is the fact's code in this dimension. At least one. */
  levels: LevelCode[];
}

/** A dimension's path: every level's code between separators, so `LIKE '%<sep>code<sep>%'` finds a descendant. */
export const pathOf = (levels: readonly { code: string }[]) =>
  `${PATH_SEPARATOR}${levels.map((l) => l.code).join(PATH_SEPARATOR)}${PATH_SEPARATOR}`;

/**
 * The rows of budget_line_dimensions for a line: one per dimension, in the given order (its `position`), the
 * first of each type marked primary (what a summary by a type groups by).
 */
export function lineDimensionRows(lineId: string, dims: readonly FactDimension[]): BudgetLineDimension[] {
  const seen = new Set<ClassificationType>();
  return dims.map((d, position) => {
    const primary = !seen.has(d.type);
    seen.add(d.type);
    const at = (level: number) => d.levels[Math.min(level, d.levels.length) - 1].code;
    return {
      lineId,
      dimension: d.dimension,
      type: d.type,
      isPrimary: primary ? 1 : 0,
      scheme: d.scheme,
      code: d.levels[d.levels.length - 1].code,
      depth: d.levels.length,
      level1: at(1),
      level2: at(2),
      level3: at(Math.min(3, STORED_LEVELS)),
      path: pathOf(d.levels),
      position,
    };
  });
}

/** What a fact's dimensions weigh in its row digest: names, schemes and codes of every level. */
export const dimensionsContent = (dims: readonly FactDimension[]) =>
  dims.map((d) => [d.dimension, d.type, d.scheme, d.levels.map((l) => l.code)]);

/** Short direction codes in line ids. */
export const DIRECTION_CODE: Record<BudgetDirection, string> = { EXPENDITURE: 'EXP', REVENUE: 'REV' };

/**
 * A fact's id: `<budget>-<EXP|REV>-<code>` when one dimension identifies it (a Tunisian line, a package with
 * one classification: the ids lines have always had), else that followed by `-` and 12 hex digits of a digest
 * of every dimension's name and codes; the n-th fact of the same cell in the file (n > 1: rows sharing every
 * dimension value, see the importers) ends in `-n`. Stable across imports of the same file, so re-importing
 * changes nothing and a changed amount updates its fact.
 */
export function factId(
  budgetId: string,
  direction: BudgetDirection,
  code: string,
  dims: readonly FactDimension[],
  occurrence = 1,
): string {
  let id = `${budgetId}-${DIRECTION_CODE[direction]}`;
  if (code) id += `-${code}`;
  if (dims.length > 1 || !code) id += `-${cellDigest(dims).slice(0, 12)}`;
  if (occurrence > 1) id += `-${occurrence}`;
  return id;
}

/** A digest of a fact's cell: every dimension's name and level codes (what identifies it besides the budget). */
export function cellDigest(dims: readonly FactDimension[]): string {
  const canonical = [...dims]
    .sort((a, b) => (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : 0))
    .map((d) => [d.dimension, d.levels.map((l) => l.code)]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
