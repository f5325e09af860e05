import * as countries from 'i18n-iso-countries';
import ar from 'i18n-iso-countries/langs/ar.json';
import en from 'i18n-iso-countries/langs/en.json';
import es from 'i18n-iso-countries/langs/es.json';
import fr from 'i18n-iso-countries/langs/fr.json';

/*
 * Country codes and names, from i18n-iso-countries in the project's four languages. Kept apart from the
 * export's reader so that code needing a country's name at request time (the commitments subgraph's
 * aggregates) loads only this, never the parser.
 */

for (const locale of [ar, en, es, fr]) countries.registerLocale(locale);

/** Kosovo's code: user-assigned in ISO 3166-1 but in common use (EU, World Bank); OGP's export writes XKX. */
export const KOSOVO_ISO2 = 'XK';

/** The names of a country in the four languages of the project, from i18n-iso-countries. */
export function countryNames(iso2: string): {
  fr: string | null;
  en: string | null;
  ar: string | null;
  es: string | null;
} {
  const get = (lang: string) => countries.getName(iso2, lang) ?? null;
  return { fr: get('fr'), en: get('en'), ar: get('ar'), es: get('es') };
}

/** ISO 3166-1 alpha-2 of an alpha-3 code ("MAR" → "MA"); undefined when the code is none. */
export const alpha2FromAlpha3 = (alpha3: string): string | undefined => countries.alpha3ToAlpha2(alpha3);

/** ISO 3166-1 alpha-2 of an English country name, exact or loosely matched; null when none matches. */
export const alpha2FromName = (name: string): string | null =>
  countries.getAlpha2Code(name, 'en') ?? countries.getSimpleAlpha2Code(name, 'en') ?? null;

/** True when `code` is an ISO 3166-1 code. */
export const isCountryCode = (code: string): boolean => countries.isValid(code);
