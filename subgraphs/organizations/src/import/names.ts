import { invisibleMarks, NAME_STEPS, SourceAdjustments } from '@civic/common/import/adjust';
import type { Organization } from '../entities/Organization';

/*
 * How the administrative-division files' names are read: cleaned of layout debris (never of letters), and a
 * name in Arabic script written under a Latin language moved to Arabic. Every correction is a warning, and
 * every cell stored otherwise than written is a source adjustment of the record (common/src/import/adjust.ts).
 */

/** An organization's names, one per language. */
export type Names = Pick<Organization, 'nameAr' | 'nameFr' | 'nameEn' | 'nameEs'>;

const LANGS = [
  ['ar', 'nameAr'],
  ['fr', 'nameFr'],
  ['en', 'nameEn'],
  ['es', 'nameEs'],
] as const;

/**
 * Where a per-record reader reports a correction it made: the field (`name.fr`, `type`...) and a message for
 * people. An importer files it under the record's line.
 */
export type Warn = (field: string | null, message: string) => void;

const ARABIC_LETTER = /[\u0600-\u06ff\u0750-\u077f]/;
const LATIN_LETTER = /[A-Za-z\u00c0-\u024f]/;

/** True when the text is written in Arabic script only (no Latin letter). */
export const isArabicScript = (text: string) => ARABIC_LETTER.test(text) && !LATIN_LETTER.test(text);

/**
 * Cleans a name for display and identity (common/src/import/adjust.ts, NAME_STEPS): invisible marks removed,
 * whitespace runs folded, ends trimmed. Letters and diacritics are never touched (Arabic stays exactly as
 * written). A change is reported as a warning and, given `adjustments`, recorded with the cell verbatim under
 * `field` (the API field showing the name; default the column); an empty result is null.
 */
export function cleanName(
  raw: unknown,
  column: string,
  warn: Warn,
  adjustments: SourceAdjustments = new SourceAdjustments(),
  field: string | null = column,
): string | null {
  if (typeof raw !== 'string') return null;
  const clean = adjustments.cleanText(raw, column, field, NAME_STEPS);
  if (clean !== raw && clean) {
    const marks = invisibleMarks(raw);
    const what = marks.length ? `invisible ${marks.join(', ')} removed` : 'extra spaces removed';
    warn(column, `${column} ${JSON.stringify(raw)} read as ${JSON.stringify(clean)} (${what})`);
  }
  return clean;
}

/**
 * Reads a `{ ar, en, es, fr }` names object (`prefix` names its fields in warnings: `name.fr`). A
 * Latin-language field holding only Arabic script (communes.json gives COM_0881's French name in Arabic) is
 * not French: it is left null when the Arabic field already has a name, moved to Arabic otherwise; either
 * way with a warning.
 */
export function readNames(
  raw: unknown,
  warn: Warn,
  prefix = 'name',
  adjustments: SourceAdjustments = new SourceAdjustments(),
): Names {
  const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const names: Names = { nameAr: null, nameFr: null, nameEn: null, nameEs: null };
  for (const [lang, key] of LANGS)
    names[key] = cleanName(obj[lang], `${prefix}.${lang}`, warn, adjustments, `names.${lang}`);
  for (const [lang, key] of LANGS) {
    const v = names[key];
    if (lang === 'ar' || !v || !isArabicScript(v)) continue;
    const cell = String(obj[lang]);
    if (names.nameAr) {
      adjustments.record(`${prefix}.${lang}`, null, cell, null, ['WRONG_SCRIPT_DROPPED']);
      warn(
        `${prefix}.${lang}`,
        `${prefix}.${lang} ${JSON.stringify(v)} is in Arabic script, not ${lang}; left null (the Arabic name is ${JSON.stringify(names.nameAr)})`,
      );
    } else {
      names.nameAr = v;
      adjustments.record(`${prefix}.${lang}`, 'names.ar', cell, v, ['WRONG_SCRIPT_MOVED']);
      warn(
        `${prefix}.${lang}`,
        `${prefix}.${lang} ${JSON.stringify(v)} is in Arabic script; used as the Arabic name`,
      );
    }
    names[key] = null;
  }
  return names;
}

/** Whether an organization has a name in at least one language (one with none is refused). */
export const hasName = (n: Names) => Boolean(n.nameAr || n.nameFr || n.nameEn || n.nameEs);
