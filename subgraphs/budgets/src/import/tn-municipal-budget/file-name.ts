import type { BudgetDirection } from '../../entities/Budget';

/** A file's layout as its name says it. */
export type BudgetFileKind =
  | { kind: 'perYear'; direction: BudgetDirection }
  | { kind: 'monthly'; direction: BudgetDirection; year: number; alternate: boolean }
  | { kind: 'simple' };

/** What a budget file's name says: its layout, direction (not for the long format), year and municipality. */
export type BudgetFileName = BudgetFileKind & { code: string };

/**
 * What a file holds, from its name: `depense|depence|recette` + `per_year | simple | mensuelle_<year> |
 * <year>` + `_<code>.csv`, any case. `Depence_2018` (no "mensuelle") is the alternate monthly layout (the
 * monthly columns in another order). Null for a name that is none of these. The header decides the layout;
 * the name is what says the direction and a monthly file's year.
 */
export function parseBudgetFileName(name: string): BudgetFileName | null {
  const m = /^(depense|depence|recette)_(?:(per_year)|(simple)|mensuelle_(\d{4})|(\d{4}))_(\d+)\.csv$/i.exec(
    name,
  );
  if (!m) return null;
  const code = m[6];
  const direction: BudgetDirection = m[1].toLowerCase() === 'recette' ? 'REVENUE' : 'EXPENDITURE';
  if (m[2]) return { kind: 'perYear', direction, code };
  if (m[3]) return { kind: 'simple', code };
  return { kind: 'monthly', direction, year: Number(m[4] ?? m[5]), alternate: !m[4], code };
}

/** The direction a file name starts with (`depense`/`depence`: expenditure, `recette`: revenue), if any. */
export function directionOfFileName(name: string): BudgetDirection | null {
  const word = /^(depense|depence|recette)/i.exec(name)?.[1].toLowerCase();
  if (!word) return null;
  return word === 'recette' ? 'REVENUE' : 'EXPENDITURE';
}

/** The municipal code a file name ends with (`…_34012.csv`), if any. */
export const codeOfFileName = (name: string): string | null => /_(\d+)\.csv$/i.exec(name)?.[1] ?? null;
