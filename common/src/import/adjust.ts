import type { SourceAdjustment, SourceAdjustmentReason } from '../provenance';

/*
 * The one place an importer changes a text value on its way in, and the record of each change. A record stores
 * what people search and read (a name without a stray direction mark); its provenance keeps every cell that
 * was stored otherwise, verbatim, with the reasons (Provenance.adjustments in the API), so any value can be
 * compared with the cell it came from. What each step does:
 *
 * - `invisible`: zero-width characters and direction marks (U+200B, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069, U+FEFF) are removed: layout debris, never part of a name (INVISIBLE_REMOVED);
 * - `spaces`: a run of whitespace inside the text (two spaces, a tab, a line break, a no-break space) becomes
 *   one space (SPACES_FOLDED);
 * - `ends`: whitespace at either end is removed (TRIMMED).
 *
 * Letters, digits, punctuation, case and diacritics are never touched (Arabic stays exactly as written). A
 * cell that is empty after cleaning is stored as null.
 */

export type TextStep = 'invisible' | 'spaces' | 'ends';

/** Names and other short display text: every step. */
export const NAME_STEPS: readonly TextStep[] = ['invisible', 'spaces', 'ends'];
/** Labels whose inner spacing is kept: only the ends are trimmed. */
export const ENDS_ONLY: readonly TextStep[] = ['ends'];

/** Invisible direction marks and zero-width characters. */
const INVISIBLE = /[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** The invisible characters of a text, as U+XXXX, each once (for messages). */
export const invisibleMarks = (text: string): string[] =>
  [...new Set(text.match(INVISIBLE) ?? [])].map(
    (c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
  );

/** A text through `steps`, and the reasons it changed (none when it is as written). */
export function normalizeText(
  raw: string,
  steps: readonly TextStep[] = NAME_STEPS,
): { text: string; reasons: SourceAdjustmentReason[] } {
  const reasons: SourceAdjustmentReason[] = [];
  let s = raw;
  if (steps.includes('invisible')) {
    const visible = s.replace(INVISIBLE, '');
    if (visible !== s) reasons.push('INVISIBLE_REMOVED');
    s = visible;
  }
  if (steps.includes('ends')) {
    const trimmed = s.trim();
    if (trimmed !== s) reasons.push('TRIMMED');
    s = trimmed;
  }
  if (steps.includes('spaces')) {
    const folded = s.replace(/\s+/g, ' ');
    if (folded !== s) reasons.push('SPACES_FOLDED');
    s = folded;
  }
  return { text: s, reasons };
}

/**
 * The adjustments of one record, collected while it is read and given to ImportContext.provenance. One entry
 * per source column, in the order first recorded: a later change to the same column (a name moved to
 * another language after it was cleaned) adds its reasons to the entry.
 */
export class SourceAdjustments {
  readonly list: SourceAdjustment[] = [];

  /**
   * A text cell cleaned through `steps` (see above); null when absent or empty after cleaning. A difference
   * from the cell is recorded under `column` (where the source has it) and `field` (where the API shows it).
   */
  cleanText(
    raw: unknown,
    column: string,
    field: string | null,
    steps: readonly TextStep[] = NAME_STEPS,
  ): string | null {
    if (typeof raw !== 'string') return null;
    const { text, reasons } = normalizeText(raw, steps);
    const stored = text || null;
    if (reasons.length) this.record(column, field, raw, stored, reasons);
    return stored;
  }

  /**
   * Records that the cell `asWritten` of `column` is stored as `stored` in `field`, for `reasons`. Recording
   * a column again keeps its first `asWritten` and takes the later `field` and `stored` (the value's final
   * place), adding the reasons.
   */
  record(
    column: string,
    field: string | null,
    asWritten: string,
    stored: string | null,
    reasons: readonly SourceAdjustmentReason[],
  ): void {
    const known = this.list.find((a) => a.column === column);
    if (!known) {
      this.list.push({ column, field, asWritten, stored, reasons: [...reasons] });
      return;
    }
    known.field = field;
    known.stored = stored;
    for (const r of reasons) if (!known.reasons.includes(r)) known.reasons.push(r);
  }
}
