import type { Organization } from '../entities/Organization';

/*
 * How the administrative-division files' names are read: cleaned of layout debris (never of letters), and a
 * name in Arabic script written under a Latin language moved to Arabic. Every correction is a warning.
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

/** Invisible direction marks and zero-width characters: layout debris, never part of a name. */
const INVISIBLE = /[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const ARABIC_LETTER = /[\u0600-\u06ff\u0750-\u077f]/;
const LATIN_LETTER = /[A-Za-z\u00c0-\u024f]/;

/** True when the text is written in Arabic script only (no Latin letter). */
export const isArabicScript = (text: string) => ARABIC_LETTER.test(text) && !LATIN_LETTER.test(text);

/**
 * Cleans a name for display and identity: invisible marks removed, whitespace runs collapsed, ends trimmed.
 * Letters and diacritics are never touched (Arabic stays exactly as written). A change is reported as a
 * warning, so the cleaning is never silent; an empty result is null.
 */
export function cleanName(raw: unknown, field: string, warn: Warn): string | null {
  if (typeof raw !== 'string') return null;
  const invisible = [...new Set(raw.match(INVISIBLE) ?? [])];
  const clean = raw.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (clean !== raw && clean) {
    const marks = invisible.map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    const what = marks.length ? `invisible ${marks.join(', ')} removed` : 'extra spaces removed';
    warn(field, `${field} ${JSON.stringify(raw)} read as ${JSON.stringify(clean)} (${what})`);
  }
  return clean || null;
}

/**
 * Reads a `{ ar, en, es, fr }` names object (`prefix` names its fields in warnings: `name.fr`). A
 * Latin-language field holding only Arabic script (communes.json gives COM_0881's French name in Arabic) is
 * not French: it is left null when the Arabic field already has a name, moved to Arabic otherwise; either
 * way with a warning.
 */
export function readNames(raw: unknown, warn: Warn, prefix = 'name'): Names {
  const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const names: Names = { nameAr: null, nameFr: null, nameEn: null, nameEs: null };
  for (const [lang, key] of LANGS) names[key] = cleanName(obj[lang], `${prefix}.${lang}`, warn);
  for (const [lang, key] of LANGS) {
    const v = names[key];
    if (lang === 'ar' || !v || !isArabicScript(v)) continue;
    if (names.nameAr) {
      warn(
        `${prefix}.${lang}`,
        `${prefix}.${lang} ${JSON.stringify(v)} is in Arabic script, not ${lang}; left null (the Arabic name is ${JSON.stringify(names.nameAr)})`,
      );
    } else {
      names.nameAr = v;
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
