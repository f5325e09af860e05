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

/** Column definitions for a localized text stored as one column per language: `<prefix>_ar`, ... */
export function localizedColumns(prefix: string, length = 512): Record<string, EntitySchemaColumnOptions> {
  const out: Record<string, EntitySchemaColumnOptions> = {};
  for (const lang of LANGUAGES) {
    out[`${prefix}${lang[0].toUpperCase()}${lang.slice(1)}`] = {
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
  const get = (l: Language) => r[`${prefix}${l[0].toUpperCase()}${l.slice(1)}`] ?? null;
  return { ar: get('ar'), fr: get('fr'), en: get('en'), es: get('es') };
}

/** The first language with text, in the given order (default French, English, Arabic, Spanish). */
export function bestText(text: LocalizedText, order: readonly Language[] = LANGUAGES): string | null {
  for (const l of order) {
    const v = text[l];
    if (v) return v;
  }
  return null;
}
