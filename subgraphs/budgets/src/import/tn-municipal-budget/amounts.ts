import type { BudgetPhase } from '../../entities/Budget';

/*
 * The amount cells of the Tunisian budget files: integer millimes, and in the monthly layout the columns that
 * say which figure (execution to a month's end, or the full-year budget) a cell is.
 */

/** A parsed amount cell: null for an empty cell (no amount), else the exact integer number of millimes. */
export type AmountCell = { ok: true; minor: string | null } | { ok: false; reason: string };

/**
 * Parses an amount in millimes, as a string into BigInt: no float ever touches it. Empty means no amount
 * ("0" is a real zero); anything but an optionally signed integer is refused, including "1.5": these files
 * hold integer millimes, so a decimal point means a value in another unit or a rounding artefact, and
 * guessing which would invent money.
 */
export function parseMillimes(raw: string): AmountCell {
  const v = raw.trim();
  if (v === '') return { ok: true, minor: null };
  if (/^-?\d+$/.test(v)) return { ok: true, minor: BigInt(v).toString() };
  if (/^-?\d*[.,]\d+$/.test(v)) {
    return {
      ok: false,
      reason: `${JSON.stringify(raw)} has decimals: amounts in these files are integer millimes`,
    };
  }
  return { ok: false, reason: `${JSON.stringify(raw)} is not an integer number of millimes` };
}

/** The last day of a month, ISO 8601: execution figures stand at the end of the month they name. */
export function endOfMonth(year: number, month: number): string {
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** An amount column of a monthly file and what its figures are. */
export interface MonthlyColumn {
  column: string;
  phase: BudgetPhase;
  /** The month's last day for an execution figure, '' for the full-year budget. */
  asOf: string;
}

/**
 * The amount columns among a monthly file's headers: `Budget_MM_YYYY` is the cumulative execution at the end
 * of month MM (EXECUTED as of its last day), `Budget_YYYY` the full-year budget (APPROVED). A column of
 * another year (or month 13) is passed to `misfit` and left out.
 */
export function monthlyAmountColumns(
  header: readonly string[],
  fileYear: number,
  misfit: (column: string) => void,
): MonthlyColumn[] {
  const out: MonthlyColumn[] = [];
  for (const column of header) {
    const month = /^Budget_(\d{2})_(\d{4})$/.exec(column);
    const full = /^Budget_(\d{4})$/.exec(column);
    const year = Number(month?.[2] ?? full?.[1]);
    if (!month && !full) continue;
    if (year !== fileYear || (month && (Number(month[1]) < 1 || Number(month[1]) > 12))) {
      misfit(column);
      continue;
    }
    out.push(
      month
        ? { column, phase: 'EXECUTED', asOf: endOfMonth(year, Number(month[1])) }
        : { column, phase: 'APPROVED', asOf: '' },
    );
  }
  return out;
}
