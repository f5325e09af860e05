/*
 * The cells of the OGP commitments export: its missing-value markers, and how text is compared (case and
 * accents aside). Every other reader of the export builds on these.
 */

/**
 * The export's markers for "no data": ND (no data), NR (not reviewed), NA / N/A (not applicable) and the
 * empty cell. "Unclear" also means unknown everywhere except on the completion scale, where the IRM uses
 * it as an assessment (see {@link parseCompletion}).
 */
const MISSING = new Set(['', 'nd', 'nr', 'na', 'n/a', 'unclear']);

/** True when a cell holds one of the export's missing-value markers (ND, NR, NA, N/A, Unclear, empty). */
export function isMissing(value: string | null | undefined): boolean {
  return value == null || MISSING.has(value.trim().toLowerCase());
}

/** The trimmed cell, or null for a missing-value marker. */
export function textOrNull(value: string | null | undefined): string | null {
  return isMissing(value) ? null : value!.trim();
}

/** Lowercase, accents removed, whitespace collapsed: how keywords and scale values are compared. */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** The result of reading one cell: the value (null when unknown) and, when the cell was unexpected, why. */
export interface Parsed<T> {
  value: T | null;
  warning: string | null;
}
