import Negotiator from 'negotiator';
import { LANGUAGES, type Language } from './localized';

/** The fallback order when a request states no preference, from LANGUAGE_FALLBACK (default fr, en, ar, es). */
export function parseFallback(value: string | undefined): Language[] {
  if (!value) return [...LANGUAGES];
  const langs = value.split(',').map((l) => l.trim().toLowerCase());
  const unknown = langs.filter((l) => !(LANGUAGES as readonly string[]).includes(l));
  if (unknown.length || !langs.length) {
    throw new Error(
      `LANGUAGE_FALLBACK: expected a comma-separated list of ${LANGUAGES.join(', ')}; got "${value}"`,
    );
  }
  // Languages left out of the configured order still come last, so a text in any language is found.
  return [...new Set([...(langs as Language[]), ...LANGUAGES])];
}

/**
 * The order in which to choose among a text's languages for one request: the Accept-Language header's
 * preferences first (quality order, "ar-MA" counts as "ar"), then the configured fallback order.
 */
export function negotiateLanguages(acceptLanguage: string | null, fallback: readonly Language[]): Language[] {
  if (!acceptLanguage) return [...fallback];
  const preferred = new Negotiator({ headers: { 'accept-language': acceptLanguage } }).languages([
    ...LANGUAGES,
  ]);
  return [...new Set([...(preferred as Language[]), ...fallback])];
}

/** The order for one field: its `lang` argument first when given, then the request's order. */
export function languageOrder(
  requestOrder: readonly Language[],
  lang?: Language | null,
): readonly Language[] {
  return lang ? [lang, ...requestOrder.filter((l) => l !== lang)] : requestOrder;
}

/** The GraphQL `Language` enum value (AR, FR, EN, ES) as a data language code. */
export function fromLanguageEnum(lang: 'AR' | 'FR' | 'EN' | 'ES' | null | undefined): Language | null {
  return lang ? (lang.toLowerCase() as Language) : null;
}
