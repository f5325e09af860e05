import type { EntitySchemaColumnOptions } from 'typeorm';

export const LANGUAGES = ['fr', 'en', 'ar', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Text in the languages the data has. Each is null where the source has no text in that language. */
export interface LocalizedText {
  ar: string | null;
  fr: string | null;
  en: string | null;
  es: string | null;
}

/** The entity property holding one language of a localized text: `name` + `fr` → `nameFr`. */
export const localizedProperty = (prefix: string, lang: Language) =>
  `${prefix}${lang[0].toUpperCase()}${lang.slice(1)}`;

/** Column definitions for a localized text stored as one column per language: `<prefix>_ar`, ... */
export function localizedColumns(prefix: string, length = 512): Record<string, EntitySchemaColumnOptions> {
  const out: Record<string, EntitySchemaColumnOptions> = {};
  for (const lang of LANGUAGES) {
    out[localizedProperty(prefix, lang)] = {
      type: 'varchar',
      length,
      name: `${prefix}_${lang}`,
      nullable: true,
    };
  }
  return out;
}

/** Reads the per-language columns `<prefix>Fr`, `<prefix>En`... of an entity row into a LocalizedText. */
export function readLocalized(row: object, prefix: string): LocalizedText {
  const r = row as Record<string, string | null | undefined>;
  const get = (l: Language) => r[localizedProperty(prefix, l)] ?? null;
  return { ar: get('ar'), fr: get('fr'), en: get('en'), es: get('es') };
}

/**
 * A localized text's per-language properties of a row, by property name (`nameAr`...), in the given language
 * order then the languages it leaves out: the searchable and highlightable fields of that text.
 */
export function localizedFields(
  row: object,
  prefix: string,
  order: readonly Language[] = LANGUAGES,
): Record<string, string | null> {
  const text = readLocalized(row, prefix);
  return Object.fromEntries(
    [...new Set([...order, ...LANGUAGES])].map((l) => [localizedProperty(prefix, l), text[l]]),
  );
}

/** The first language with text, in the given order (default French, English, Arabic, Spanish). */
export function bestText(text: LocalizedText, order: readonly Language[] = LANGUAGES): string | null {
  for (const l of order) {
    const v = text[l];
    if (v) return v;
  }
  return null;
}
