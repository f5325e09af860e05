import * as countries from 'i18n-iso-countries';
import ar from 'i18n-iso-countries/langs/ar.json';
import en from 'i18n-iso-countries/langs/en.json';
import es from 'i18n-iso-countries/langs/es.json';
import fr from 'i18n-iso-countries/langs/fr.json';
import { KOSOVO_ISO2 } from '@civic/formats/ogp-export/countries';
import { ORGANIZATION_KINDS, type OrganizationKind } from '@civic/formats/vocabulary';

/**
 * How the organization importers read the values people write in files: kinds, countries, OGP membership,
 * keys. Each parser returns the stored value, or a reason a person can act on.
 */

for (const locale of [ar, en, es, fr]) countries.registerLocale(locale);

export type Parsed<T> = { value: T } | { problem: string };

/** Lowercase, no accents, letters and digits only: how names and synonyms are compared. */
const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * Words people use for each kind, besides the kind's own name (compared without case, accents, spaces or
 * punctuation: "civil society", "Civil-Society" and CIVIL_SOCIETY are one). Documented in the README.
 */
export const KIND_SYNONYMS: Record<OrganizationKind, readonly string[]> = {
  GOVERNMENT: [
    'gov',
    'govt',
    'public',
    'public sector',
    'public body',
    'public authority',
    'state',
    'gouvernement',
    'administration',
    'public administration',
    'secteur public',
    'حكومة',
  ],
  CIVIL_SOCIETY: [
    'cso',
    'ngo',
    'ong',
    'civil society organization',
    'civil society organisation',
    'association',
    'non-profit',
    'nonprofit',
    'npo',
    'société civile',
    'osc',
    'مجتمع مدني',
    'جمعية',
  ],
  INTERNATIONAL: [
    'international organization',
    'international organisation',
    'igo',
    'io',
    'multilateral',
    'donor',
    'organisation internationale',
  ],
  PRIVATE: ['private sector', 'business', 'company', 'corporate', 'secteur privé', 'entreprise'],
  ACADEMIC: ['academia', 'university', 'research', 'université', 'universitaire', 'think tank', 'جامعة'],
  OTHER: ['autre', 'others', 'multi-stakeholder', 'multistakeholder'],
};

const KINDS = new Map<string, OrganizationKind>();
for (const kind of ORGANIZATION_KINDS) {
  KINDS.set(fold(kind), kind);
  for (const s of KIND_SYNONYMS[kind]) KINDS.set(fold(s), kind);
}

/** An OrganizationKind from its name or a synonym, in any case. */
export function parseKind(raw: string): Parsed<OrganizationKind> {
  const kind = KINDS.get(fold(raw));
  if (kind) return { value: kind };
  return {
    problem: `unknown kind (expected one of ${ORGANIZATION_KINDS.join(', ')}, or a synonym such as NGO, CSO, public, university)`,
  };
}

/** Every country name of the four locales, folded, to its alpha-2. */
let countryNames: Map<string, string> | null = null;
function byName(name: string): string | null {
  if (!countryNames) {
    countryNames = new Map();
    for (const lang of ['en', 'fr', 'es', 'ar'])
      for (const [code, names] of Object.entries(countries.getNames(lang, { select: 'all' })))
        for (const n of names) if (!countryNames.has(fold(n))) countryNames.set(fold(n), code);
    countryNames.set('kosovo', KOSOVO_ISO2);
  }
  return countryNames.get(fold(name)) ?? null;
}

/**
 * ISO 3166-1 alpha-2 from an alpha-2 or alpha-3 code ("MA", "mar") or a country's name in English, French,
 * Spanish or Arabic ("Morocco", "Maroc", "المغرب"), accents and case aside. Kosovo is XK (XKX), as in the
 * OGP data.
 */
export function parseCountry(raw: string): Parsed<string> {
  const v = raw.trim();
  const upper = v.toUpperCase();
  if (upper === KOSOVO_ISO2 || upper === 'XKX') return { value: KOSOVO_ISO2 };
  if (/^[A-Za-z]{2}$/.test(v) && countries.isValid(upper)) return { value: upper };
  if (/^[A-Za-z]{3}$/.test(v)) {
    const a2 = countries.alpha3ToAlpha2(upper);
    if (a2) return { value: a2 };
  }
  const named = byName(v);
  if (named) return { value: named };
  return {
    problem:
      'unknown country (expected an ISO 3166-1 alpha-2 or alpha-3 code, or a country name in English or French)',
  };
}

/** NATIONAL or LOCAL, in any case. */
export function parseOgpType(raw: string): Parsed<'NATIONAL' | 'LOCAL'> {
  const v = fold(raw);
  if (v === 'national') return { value: 'NATIONAL' };
  if (v === 'local') return { value: 'LOCAL' };
  return { problem: 'unknown OGP membership type (expected NATIONAL or LOCAL)' };
}

/** An ISO 8601 date of reduced precision as OGP gives them: 2021, 2022-05 or 2022-05-12. */
export function parseJoined(raw: string): Parsed<string> {
  const v = raw.trim();
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(v);
  if (m) {
    const [, y, mo, d] = m;
    const month = mo === undefined ? 1 : Number(mo);
    const day = d === undefined ? 1 : Number(d);
    const date = new Date(Date.UTC(Number(y), month - 1, day));
    if (month >= 1 && month <= 12 && date.getUTCDate() === day && date.getUTCMonth() === month - 1)
      return { value: v };
  }
  return { problem: 'not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)' };
}

/** Longest stored key (the organizations.id column). */
export const MAX_KEY = 191;

/** A stable key as written: no spaces, at most 191 characters. */
export function parseKey(raw: string): Parsed<string> {
  const v = raw.trim();
  if (v.length > MAX_KEY) return { problem: `too long (${v.length} characters; at most ${MAX_KEY})` };
  if (/\s/.test(v)) return { problem: 'a key cannot contain spaces' };
  return { value: v };
}
