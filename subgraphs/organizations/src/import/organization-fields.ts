import { guessNameLanguage } from '@civic/formats/ogp-export/language';
import { institutionId } from '@civic/formats/keys';
import type { OrganizationKind } from '@civic/formats/vocabulary';
import { SourceAdjustments } from '@civic/common/import/adjust';
import { LANGUAGES } from '@civic/common/localized';
import { cleanName, hasName, isArabicScript, readNames, type Names } from './names';
import type { RecordReader } from './organization-record';
import { MAX_KEY, parseCountry, parseJoined, parseKey, parseKind, parseOgpType } from './values';

/*
 * The field readers of the `organizations` import kind (identifiers aside: ./organization-identifiers).
 * Each reads its columns of one record and reports what is wrong with them through the record's reader;
 * the order they are called in is the order of the record's issues.
 */

const MAX_NAME = 512;
const MAX_CLASSIFICATION = 64;

/**
 * The record's names: the per-language columns (`names.ar`...), else a lone `name` put under the language it
 * is written in. No name at all, or a name too long, is a problem.
 */
export function readRecordNames(r: RecordReader): Names {
  const names: Names = readNames(
    Object.fromEntries(LANGUAGES.map((l) => [l, r.text(`names.${l}`)])),
    (field, message) => r.warn(field, message),
    'names',
    r.adjustments,
  );
  if (!hasName(names)) {
    const lone = new SourceAdjustments();
    const name = cleanName(r.text('name'), 'name', r.warn, lone, null);
    if (name) {
      const lang = isArabicScript(name) ? 'ar' : guessNameLanguage(name);
      names[lang === 'ar' ? 'nameAr' : lang === 'fr' ? 'nameFr' : lang === 'es' ? 'nameEs' : 'nameEn'] = name;
      for (const a of lone.list)
        r.adjustments.record(a.column, `names.${lang}`, a.asWritten, a.stored, a.reasons);
    }
  }
  if (!hasName(names)) r.bad(null, null, 'no name: give names.ar, names.fr, names.en or names.es (or name)');
  for (const l of LANGUAGES) {
    const v = names[`name${l[0].toUpperCase()}${l[1]}` as keyof Names];
    if (v && v.length > MAX_NAME)
      r.bad(`names.${l}`, v, `too long (${v.length} characters; at most ${MAX_NAME})`);
  }
  return names;
}

/** The record's kind (required); null when it is missing or not a kind. */
export function readKind(r: RecordReader): OrganizationKind | null {
  const rawKind = r.text('kind').trim();
  if (!rawKind) {
    r.bad('kind', null, 'no kind');
    return null;
  }
  const k = parseKind(rawKind);
  if ('problem' in k) {
    r.bad('kind', rawKind, k.problem);
    return null;
  }
  return k.value;
}

/** The record's country (ISO 3166-1 alpha-2); null when empty or not a country. */
export function readCountry(r: RecordReader): string | null {
  const rawCountry = r.text('country').trim();
  if (!rawCountry) return null;
  const c = parseCountry(rawCountry);
  if ('problem' in c) {
    r.bad('country', rawCountry, c.problem);
    return null;
  }
  return c.value;
}

/**
 * The record's id: the `id` column, else the stable key of an institution of its name in its country (as the
 * OGP seed makes it); null when the id is not a key, or there is neither id nor name.
 */
export function readId(r: RecordReader, names: Names, country: string | null): string | null {
  const rawId = r.text('id').trim();
  if (rawId) {
    const k = parseKey(rawId);
    if ('problem' in k) {
      r.bad('id', rawId, `id: ${k.problem}`);
      return null;
    }
    return k.value;
  }
  if (!hasName(names)) return null;
  const id = institutionId(country, (names.nameEn ?? names.nameFr ?? names.nameEs ?? names.nameAr)!);
  return id.length > MAX_KEY ? id.slice(0, MAX_KEY) : id;
}

/** The record's classification, cleaned like a name; null when the column is absent or empty. */
export function readClassification(r: RecordReader): string | null {
  const classification = r.has('classification')
    ? cleanName(r.text('classification'), 'classification', r.warn, r.adjustments)
    : null;
  if (classification && classification.length > MAX_CLASSIFICATION)
    r.bad(
      'classification',
      classification,
      `too long (${classification.length} characters; at most ${MAX_CLASSIFICATION})`,
    );
  return classification;
}

/** The record's parent id; null when empty, not a key, or the record's own id. */
export function readParent(r: RecordReader, id: string | null): string | null {
  const rawParent = r.text('parent.id').trim();
  if (!rawParent) return null;
  const p = parseKey(rawParent);
  if ('problem' in p) r.bad('parent.id', rawParent, `parent: ${p.problem}`);
  else if (p.value === id) r.bad('parent.id', rawParent, 'an organization cannot be its own parent');
  else return p.value;
  return null;
}

/** An organization's OGP membership as a record gives it. */
export interface OgpMembership {
  type: 'NATIONAL' | 'LOCAL' | null;
  joined: string | null;
}

/** True when the record has an OGP membership column (even empty), so that it sets the membership. */
export const hasOgpColumns = (r: RecordReader) =>
  r.has('ogpMembership.type') || r.has('ogpMembership.joined');

/**
 * The record's OGP membership (type and date joined); null when the record has no OGP membership column. A
 * date joined without a type is a problem.
 */
export function readOgp(r: RecordReader): OgpMembership | null {
  if (!hasOgpColumns(r)) return null;
  const ogp: OgpMembership = { type: null, joined: null };
  const rawType = r.text('ogpMembership.type').trim();
  const rawJoined = r.text('ogpMembership.joined').trim();
  if (rawType) {
    const t = parseOgpType(rawType);
    if ('problem' in t) r.bad('ogpMembership.type', rawType, t.problem);
    else ogp.type = t.value;
  }
  if (rawJoined) {
    const j = parseJoined(rawJoined);
    if ('problem' in j) r.bad('ogpMembership.joined', rawJoined, j.problem);
    else ogp.joined = j.value;
    if (!rawType) r.bad('ogpMembership.joined', rawJoined, 'a date joined without an OGP membership type');
  }
  return ogp;
}
