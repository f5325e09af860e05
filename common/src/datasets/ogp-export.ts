import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import * as countries from 'i18n-iso-countries';
import ar from 'i18n-iso-countries/langs/ar.json';
import en from 'i18n-iso-countries/langs/en.json';
import es from 'i18n-iso-countries/langs/es.json';
import fr from 'i18n-iso-countries/langs/fr.json';
import { z } from 'zod';
import {
  institutionId,
  moroccoRegionId,
  nationalGovernmentId,
  normalizeName,
  ogpLocalMemberId,
  slug,
  tunisiaMunicipalityId,
} from '../keys';
import { readCsv, type CsvLayout } from '../import/csv';
import type { ImportContext, SourceRow } from '../import/pipeline';
import { DATASETS_DIR, SOURCES, datasetPath } from '../sources';
import {
  ORGANIZATION_KINDS,
  type Completion,
  type DidItOpenGovernment,
  type OgpValue,
  type PotentialImpact,
  type Specificity,
} from '../vocabulary';

/*
 * Reading the two OGP files (the commitments export and the OGP Local members file) into typed,
 * normalized rows. Both the organizations and the commitments subgraphs build their entities from
 * these rows, so the two agree on every organization id without reading each other's tables.
 * Everything here is pure: it reads files and returns values, it never touches a database.
 */

for (const locale of [ar, en, es, fr]) countries.registerLocale(locale);

/** Kosovo's code: user-assigned in ISO 3166-1 but in common use (EU, World Bank); OGP's export writes XKX. */
export const KOSOVO_ISO2 = 'XK';

/** A row that could not be loaded; `record` is `line N` or the commitment id. */
export interface Refusal {
  record: string;
  reason: string;
}

/** A row loaded with a caveat. `column` names the export column the caveat is about, when there is one. */
export interface RowWarning {
  record: string;
  message: string;
  column?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Missing values
// ---------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------
// IRM assessment scales
// ---------------------------------------------------------------------------------------------------------

export type { Completion, DidItOpenGovernment, PotentialImpact, Specificity } from '../vocabulary';
/** An OGP value, as the export's four value columns name them. */
export type OgpValueCode = OgpValue;

/** The result of reading one cell: the value (null when unknown) and, when the cell was unexpected, why. */
export interface Parsed<T> {
  value: T | null;
  warning: string | null;
}

function scale<T extends string>(labels: Record<string, T>, unclearIsValue = false) {
  return (raw: string | null | undefined): Parsed<T> => {
    const key = fold(raw ?? '');
    if (Object.hasOwn(labels, key)) return { value: labels[key], warning: null };
    if (isMissing(raw) && !(unclearIsValue && key === 'unclear')) return { value: null, warning: null };
    return {
      value: null,
      warning: `unexpected value "${raw}"; expected one of ${Object.keys(labels).join(', ')}`,
    };
  };
}

/** IRM "Specificity": None / Low / Medium / High. */
export const parseSpecificity = scale<Specificity>({
  none: 'NONE',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
});

/** IRM "Potential Impact": None / Minor / Moderate / Transformative. */
export const parsePotentialImpact = scale<PotentialImpact>({
  none: 'NONE',
  minor: 'MINOR',
  moderate: 'MODERATE',
  transformative: 'TRANSFORMATIVE',
});

/**
 * IRM completion, at the progress report and at the end of term. "Unclear" is a value of this scale (the
 * IRM could not tell how far the commitment went), not a missing-value marker, so it maps to UNCLEAR.
 */
export const parseCompletion = scale<Completion>(
  {
    'not started': 'NOT_STARTED',
    limited: 'LIMITED',
    substantial: 'SUBSTANTIAL',
    complete: 'COMPLETE',
    completed: 'COMPLETE',
    withdrawn: 'WITHDRAWN',
    unclear: 'UNCLEAR',
  },
  true,
);

/** IRM "Did It Open Government (Overall)". */
export const parseDidItOpenGovernment = scale<DidItOpenGovernment>({
  worsens: 'WORSENS',
  'did not change': 'DID_NOT_CHANGE',
  marginal: 'MARGINAL',
  major: 'MAJOR',
  outstanding: 'OUTSTANDING',
  'no early results to report yet': 'NO_EARLY_RESULTS_YET',
});

/**
 * IRM "Verifiable": Yes / No. One row has "1", the 0/1 coding of other IRM columns leaking in: it is read
 * as yes, with a warning so a person can check it.
 */
export function parseVerifiable(raw: string | null | undefined): Parsed<boolean> {
  const key = fold(raw ?? '');
  if (key === 'yes') return { value: true, warning: null };
  if (key === 'no') return { value: false, warning: null };
  if (key === '1') return { value: true, warning: 'value "1" read as Yes' };
  if (key === '0') return { value: false, warning: 'value "0" read as No' };
  if (isMissing(raw)) return { value: null, warning: null };
  return { value: null, warning: `unexpected value "${raw}"; expected Yes or No` };
}

/** The four "OGP Value ..." columns of the export and the value a "1" in each stands for. */
export const OGP_VALUE_COLUMNS: ReadonlyArray<readonly [string, OgpValueCode]> = [
  ['OGP Value Access To Information', 'ACCESS_TO_INFORMATION'],
  ['OGP Value Civic Participation', 'CIVIC_PARTICIPATION'],
  ['OGP Value Public Accountability', 'PUBLIC_ACCOUNTABILITY'],
  ['OGP Value Technology', 'TECHNOLOGY_AND_INNOVATION'],
];

/** A 0/1 flag cell: "1" is set, "0" and missing-value markers are not; anything else is a warning. */
export function parseFlag(raw: string | null | undefined): Parsed<boolean> {
  const v = (raw ?? '').trim();
  if (v === '1') return { value: true, warning: null };
  if (v === '0' || isMissing(v)) return { value: false, warning: null };
  return { value: false, warning: `unexpected flag value "${raw}"; expected 1 or 0` };
}

// ---------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------

const MONTHS: Record<string, number> = {};
(
  [
    ['january', 'jan', 'enero', 'ene', 'janvier', 'janv'],
    ['february', 'feb', 'febrero', 'fevrier', 'fevr'],
    ['march', 'mar', 'marzo', 'mars'],
    ['april', 'apr', 'abril', 'abr', 'avril', 'avr'],
    ['may', 'mayo', 'mai'],
    ['june', 'jun', 'junio', 'juin'],
    ['july', 'jul', 'julio', 'juillet', 'juil'],
    ['august', 'aug', 'agosto', 'ago', 'aout'],
    ['september', 'sep', 'sept', 'septiembre', 'setiembre', 'set', 'septembre'],
    ['october', 'oct', 'octubre', 'octobre'],
    ['november', 'nov', 'noviembre', 'novembre'],
    ['december', 'dec', 'diciembre', 'dic', 'decembre'],
  ] as const
).forEach((names, i) => names.forEach((n) => (MONTHS[n] = i + 1)));
const MONTH_RE = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');

const QUARTERS: Record<string, number> = {};
(
  [
    ['i', '1', 'first', '1st', 'primer', '1er'],
    ['ii', '2', 'second', '2nd', 'segundo', '2e', '2eme'],
    ['iii', '3', 'third', '3rd', 'tercer', '3e', '3eme'],
    ['iv', '4', 'fourth', '4th', 'cuarto', '4e', '4eme'],
  ] as const
).forEach((names, i) => names.forEach((n) => (QUARTERS[n] = i + 1)));
const QUARTER_WORD = Object.keys(QUARTERS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const SEASONS =
  'spring|summer|autumn|fall|winter|primavera|verano|otono|invierno|printemps|ete|automne|hiver';
const YEAR_QUALIFIERS =
  'early|mid|late|end of|beginning of|start of|by|by the end of|principios de|mediados de|finales de|fines de|fin de|debut|fin|mi';

const pad = (n: number) => String(n).padStart(2, '0');
const validYear = (y: number) => y >= 1900 && y <= 2100;

function ymd(y: number, m: number, d: number): string | null {
  if (!validYear(y) || m < 1 || m > 12 || d < 1) return null;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days ? `${y}-${pad(m)}-${pad(d)}` : null;
}

/** Excel's day 0 is 1899-12-30 (Excel counts 1900 as a leap year, and its serial 60 is that fictional day). */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/**
 * Reads one of the export's messy dates into ISO 8601, with reduced precision where the source is less
 * precise ("2016-06", "2016"). Handled: M/D/YYYY (the sheet is US-formatted: "3/31/2020"), D/M/YYYY when the
 * first number cannot be a month ("28/5/2014"), two-digit years (20xx: OGP started in 2011), a bare year,
 * month names in English, Spanish or French ("June 2016", "junio de 2016", "30 de junio de 2016"), Excel
 * serial numbers ("43525" = 2019-03-01), and quarters, seasons or "mid/end of" a year, which are kept to
 * the year only: "III quarter of 2022" does not say which day or month, and the raw text is kept anyway.
 * Missing-value markers give null without a warning; anything else unreadable gives null with a warning.
 */
export function parseOgpDate(raw: string | null | undefined): Parsed<string> {
  if (isMissing(raw)) return { value: null, warning: null };
  const text = raw!.trim();
  const t = fold(text)
    .replace(/[,.]/g, (c) => (c === ',' ? ' ' : ''))
    .replace(/\s+/g, ' ')
    .trim();
  const ok = (value: string | null): Parsed<string> =>
    value ? { value, warning: null } : { value: null, warning: `invalid date "${text}"` };

  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    // Month first unless the first number cannot be a month.
    return a > 12 ? ok(ymd(y, b, a)) : ok(ymd(y, a, b));
  }
  if ((m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text))) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (m[3]) return ok(ymd(y, mo, Number(m[3])));
    return ok(validYear(y) && mo >= 1 && mo <= 12 ? `${y}-${pad(mo)}` : null);
  }
  if (/^\d{4}$/.test(text)) return ok(validYear(Number(text)) ? text : null);
  if (/^\d{5}$/.test(text)) {
    const serial = Number(text);
    // 36526..73050 is 2000-01-01..2099-12-31: a five-digit number outside it is not a plausible date here.
    if (serial < 36526 || serial > 73050) return { value: null, warning: `number "${text}" is not a date` };
    return { value: new Date(EXCEL_EPOCH + serial * 86400000).toISOString().slice(0, 10), warning: null };
  }
  const day = '(\\d{1,2})(?:st|nd|rd|th|er)?';
  if ((m = new RegExp(`^(?:${day} (?:de )?)?(${MONTH_RE}) (?:${day} )?(?:de |del |of )?(\\d{4})$`).exec(t))) {
    const y = Number(m[4]);
    const mo = MONTHS[m[2]];
    const d = m[1] ?? m[3];
    if (d) return ok(ymd(y, mo, Number(d)));
    return ok(validYear(y) ? `${y}-${pad(mo)}` : null);
  }
  if (
    (m = new RegExp(
      `^(?:(${QUARTER_WORD}) (?:quarter|qtr|trimestre)|(?:quarter|q|trimestre) ?(\\d))(?: of| de| del)? (\\d{4})$`,
    ).exec(t)) ||
    (m = /^()()(\d{4})[ -]?q[1-4]$/.exec(t))
  ) {
    const q = QUARTERS[m[1] || m[2] || '1'];
    return ok(q && validYear(Number(m[3])) ? m[3] : null);
  }
  if ((m = new RegExp(`^(?:${SEASONS}|${YEAR_QUALIFIERS})(?: of| de| del)? (\\d{4})$`).exec(t))) {
    return ok(validYear(Number(m[1])) ? m[1] : null);
  }
  return { value: null, warning: `unreadable date "${text}"` };
}

// ---------------------------------------------------------------------------------------------------------
// Institutions
// ---------------------------------------------------------------------------------------------------------

/** Cell values that name no institution at all. */
const NO_INSTITUTION = new Set([
  'none',
  'n.a',
  'n/d',
  '-',
  'see action plan',
  'not applicable',
  'tbd',
  'to be determined',
  'unknown',
]);

/**
 * Category headings of the action-plan template, written on their own ("Government", "Civil Society",
 * "Citizens"): they say which kind of actor follows, they are not an institution.
 */
const CATEGORY_ONLY = new Set([
  'government',
  'governments',
  'gobierno',
  'gouvernement',
  'civil society',
  'sociedad civil',
  'societe civile',
  'citizens',
  'citizenship',
  'ciudadania',
  'academia',
  'private sector',
  'sector privado',
  'secteur prive',
  'media',
  'cso',
  'csos',
  'ngos',
  'osc',
  'other',
  'others',
  'administration',
  'multilaterals',
  'working groups',
  'donors',
  'general public',
  'professionals',
]);

/** Longer than this, a part is prose (a sentence about who will take part), not an institution's name. */
const MAX_NAME_LENGTH = 160;
const MAX_NAME_WORDS = 22;
/** Words of a sentence, not of a name: "Relevant partners will be involved", "NGOs which supervise ...". */
const PROSE =
  /\b(?:will|would|shall|should|can|could|are|is|was|were|have|has|being|which|who|whose|according to|together with|as appropriate|if needed|where relevant)\b/i;

/**
 * Headings of the OGP action-plan template ("State actors involved", "CSOs, private sector, multilaterals,
 * working groups") copied into the cells with the names: they are removed, and act as separators.
 */
const TEMPLATE_HEADINGS: RegExp[] = [
  /\bstate\s+actors\s+involved\s*:?/gi,
  /\bother\s+(?:government\s+|non-governmental\s+)?(?:actors|agencies)\s+involved\s*(?:\((?:public|civil\s+society)\))?\s*:?/gi,
  /\bnon-governmental\s+agencies\s+involved\s*:?/gi,
  /\bcsos,?\s+private\s+sector(?:,?\s+(?:multi-?\s*late?\s*rals?|(?:and\s+)?working\s+groups|etc\.?))*(?:\s+involved)?\s*:?/gi,
  /\bcivil\s+sector\s+organi[sz]ations,?\s+private\s+sector,?\s+working\s+groups\s*:?/gi,
  /\bosc,?\s+sector\s+privado,?\s+organizaciones\s+multilaterales,?\s+grupos\s+de\s+trabajos?(?:\s+involucrados)?\s*:?/gi,
  /\bactores\s+(?:de\s+gobierno|estatales\s+involucrados|de\s+entidades\s+p[uú]blicas)\s*:?/gi,
];

/**
 * A label before a colon that only announces what follows ("Initiator:", "CSOs:", "Other stakeholders
 * (ministries, agencies):"); a longer label is kept as a name ("Public Council of MOF: Mr. ...").
 */
const LABEL_START =
  /^(?:other|implementing|initiator|coordinador|coordinator|partners?|state|employers?|labou?r|trade union|technical|ministries|csos?|ngos?|gobierno|government|sociedad|civil|private|academia|media|responsible|citizens|stakeholders|actores|de la|del|des|du|lead)\b/i;

const BULLET_CHARS = '•●▪◦·\uf0b7\uf06c\uf0a7\uf076\uf0d8\uf0fc';
const BULLET = new RegExp(`[${BULLET_CHARS}]`);
const LEADING_MARKER = new RegExp(
  `^(?:[${BULLET_CHARS}*]+|[-–—]+|\\(?[a-z]\\)|\\d{1,2}[.)](?=\\s))\\s*`,
  'i',
);
/** Words a continuation line would follow: "Ministry of\nJustice". */
const DANGLING = /(?:^|\s)(?:of|de|del|for|and|y|et|the|la|le|les|des|du|on|in|to|&|para|pour)$/i;
const CONJUNCTION = /^(?:and|et|y|e|or|ou|o|&)$/i;
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'lcdo',
  'lcda',
  'ing',
  'inc',
  'st',
  'jr',
  'co',
  'no',
  'ltd',
  'prof',
  'sr',
  'sra',
  'mme',
]);

/** Head words of an institution's name: a part after a comma that has one is read as a separate name. */
// prettier-ignore
const HEAD_WORDS = [
  'ministry', 'minister', 'ministerio', 'ministere', 'department', 'departamento', 'departement',
  'directorate', 'direccion', 'direction', 'agency', 'agencia', 'agence', 'office', 'oficina', 'bureau',
  'commission', 'comision', 'commissioner', 'comisionado', 'committee', 'comite', 'council', 'consejo', 'conseil',
  'authority', 'autoridad', 'autorite', 'secretariat', 'secretaria', 'secretary', 'parliament', 'parlamento',
  'parlement', 'assembly', 'asamblea', 'assemblee', 'senate', 'senado', 'congress', 'congreso', 'court',
  'tribunal', 'government', 'gobierno', 'gouvernement', 'presidency', 'presidencia', 'municipality',
  'municipalidad', 'institute', 'instituto', 'institut', 'foundation', 'fundacion', 'fondation', 'association',
  'asociacion', 'coalition', 'coalicion', 'network', 'ngo', 'ong', 'university', 'universidad', 'universite',
  'centre', 'center', 'centro', 'fund', 'fondo', 'trust', 'forum', 'chamber', 'camara', 'unit', 'unidad',
  'initiative', 'treasury', 'inspectorate', 'chancellery', 'cabinet', 'union', 'federation', 'bank', 'house',
  'program', 'programme', 'programa', 'alliance', 'alianza', 'defensoria', 'procuraduria', 'superintendencia',
  'ombudsman', 'registry', 'registrar', 'archives', 'police', 'judiciary', 'legislature', 'inspection',
  'school', 'college', 'academy', 'partnership', 'observatory', 'observatorio', 'library', 'cooperativa', 'red',
  'knesset', 'riigikogu', 'saeima', 'seimas', 'oireachtas', 'storting', 'sejm',
];
/** Head words that also end ordinary phrases ("Construction and Communal Services"): never after "and". */
const WEAK_HEAD_WORDS = ['service', 'servicio'];
const pluralAlternatives = (w: string) => (w.endsWith('y') ? `${w}|${w.slice(0, -1)}ies` : `${w}(?:s|es)?`);
const HEAD_RE = new RegExp(`^(?:${HEAD_WORDS.map(pluralAlternatives).join('|')})$`);
const WEAK_HEAD_RE = new RegExp(`^(?:${WEAK_HEAD_WORDS.map(pluralAlternatives).join('|')})$`);
/** Heads strong enough to start a second name after "and": "Office of the Attorney General and Ministry of Justice". */
const STRONG_HEAD =
  /^(?:Ministry|Ministerio|Ministère|Department|Departamento|Office|Oficina|Secretariat|Secretaría)\b/;

/** A token like UNDP, MoJ, LACC, IDFI: two or more capitals, short. */
const ACRONYM = /^[A-Z][A-Za-z0-9&.-]{0,11}$/;
const isAcronym = (w: string) => ACRONYM.test(w) && (w.match(/[A-Z]/g) ?? []).length >= 2;

/**
 * Words of a name, lowercase without accents, up to its first parenthesis: "Ghana Integrity Initiative (GII)"
 * ends with "Initiative", and "Science and Resources (DISR) & Digital Transformation Agency" is not read as
 * ending with "Agency".
 */
const nameWords = (text: string) =>
  fold(text.split('(')[0])
    .split(/[^a-z0-9'’]+/)
    .filter(Boolean);

/** Can the text before a comma stand as a name on its own (not "Criminal" in "Criminal, Misdemeanour ... Courts")? */
function completeName(before: string): boolean {
  // Only the text since the previous comma: in "Economic, Social, Environmental and Cultural Council" the
  // second comma follows "Social".
  const text = before
    .slice(before.lastIndexOf(',') + 1)
    .replace(LEADING_MARKER, '')
    .trim();
  const words = nameWords(text);
  return (
    words.length >= 2 || isAcronym(text.replace(/["“”«»(),.;:]/g, '')) || words.some((w) => HEAD_RE.test(w))
  );
}

/**
 * Does the text after a comma read as the start of another institution's name? "acronym" when it starts
 * with one (strong evidence of a list: "Mzalendo, INFONET Africa"), "head" when it has a head word.
 */
function startsSeparateName(rest: string): 'acronym' | 'head' | null {
  const part = rest.trim();
  const first = part.split(/\s+/)[0] ?? '';
  // Never split before a lowercase word or a conjunction: "Ministry of Economy, Finance and Industry",
  // "Ministry of Justice, etc.", "Council, the Legislature".
  if (!first || !/^[\p{Lu}"“«(]/u.test(first) || CONJUNCTION.test(first)) return null;
  if (isAcronym(first.replace(/["“”«»(),.;:]/g, ''))) return 'acronym';
  if (/^transparency international\b/i.test(part)) return 'head';
  // Words without a trailing "(ACRONYM)": "Ghana Integrity Initiative (GII)" ends with "Initiative".
  const words = nameWords(part);
  // A head word among the first three words, before any conjunction ("Ministry of ...", "National
  // Treasury"; not "Building and Community"), or among the last two words of a short name ("Croatian
  // Competition Agency", "Australian Securities and Investment Commission").
  const conjunctionAt = words.findIndex((w) => CONJUNCTION.test(w));
  const headAt = words.findIndex((w) => HEAD_RE.test(w) || WEAK_HEAD_RE.test(w));
  if (headAt >= 0 && headAt <= 2 && (conjunctionAt < 0 || conjunctionAt > headAt)) return 'head';
  if (words.length > 8) return null;
  const tail = words.slice(-2);
  if (tail.some((w) => HEAD_RE.test(w))) return 'head';
  return conjunctionAt < 0 && tail.some((w) => WEAK_HEAD_RE.test(w)) ? 'head' : null;
}

interface Piece {
  text: string;
  /** The separator that ended the piece ("" at the end of the text). */
  sep: string;
}

/**
 * Splits `text` at top level (outside parentheses) where `at(text, i, start)` returns the length of a
 * separator starting at i (0: no separator); `start` is where the current piece began.
 */
function splitTopLevel(text: string, at: (text: string, i: number, start: number) => number): Piece[] {
  const parts: Piece[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (depth === 0) {
      const n = at(text, i, start);
      if (n > 0) {
        parts.push({ text: text.slice(start, i), sep: text.slice(i, i + n) });
        start = i + n;
        i = start - 1;
        continue;
      }
    }
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if ((c === ')' || c === ']') && depth > 0) depth--;
  }
  parts.push({ text: text.slice(start), sep: '' });
  return parts;
}

const parenDepth = (s: string) => (s.match(/[([]/g) ?? []).length - (s.match(/[)\]]/g) ?? []).length;

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

/**
 * Joins lines that continue the previous one: an open parenthesis, an indented or lowercase line, a word
 * cut by a hyphen, a line ending with "of"/"de"/"and", a line starting with a number that is not an
 * enumerator ("Courts\n 10 and 13"), and, in a bulleted list, an indented line that is not a new bullet.
 */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let bulleted = false;
  const flush = () => {
    if (current.trim()) out.push(current);
    current = '';
    bulleted = false;
  };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) {
      flush();
      continue;
    }
    const startsItem = LEADING_MARKER.test(trimmed) || BULLET.test(trimmed[0]);
    const prev = current.trimEnd();
    const continues =
      prev !== '' &&
      !startsItem &&
      ((bulleted && /^\s/.test(line)) ||
        parenDepth(prev) > 0 ||
        /^\s{2,}/.test(line) ||
        /^[\p{Ll}(\d]/u.test(trimmed) ||
        /\p{L}-$/u.test(prev) ||
        DANGLING.test(prev));
    if (!continues) {
      flush();
      current = trimmed;
      bulleted = startsItem;
    } else if (/\p{L}-$/u.test(prev) && /^\p{Ll}/u.test(trimmed)) {
      current = prev.slice(0, -1) + trimmed; // "Go-\n vernment"
    } else {
      current = `${prev} ${trimmed}`;
    }
  }
  flush();
  return out;
}

/**
 * Separators inside a line: ";", bullets, enumerators "1." "(a)", sentence ends, a colon after a label,
 * "and" before a strong head word, and commas before another name.
 */
function separatorAt(dashList: boolean) {
  return (s: string, i: number, start: number): number => {
    const c = s[i];
    if (c === ';' || BULLET.test(c)) return 1;
    const rest = s.slice(i);
    const before = i === 0 ? ' ' : s[i - 1];
    if (/[\s,;]/.test(before)) {
      const m = /^(?:\(?[a-z]\)|\d{1,2}[.)])\s+(?=\S)/i.exec(rest);
      if (m) return m[0].length;
      // In a line that is itself a dash-bulleted list, " - Name" starts the next item.
      if (dashList && /[-–—]/.test(c) && /^[-–—]\s*[\p{Lu}"“«]/u.test(rest)) return 1;
      const and = /^(?:and|&|y|et)\s+/.exec(rest);
      if (and && STRONG_HEAD.test(rest.slice(and[0].length))) return and[0].length;
    }
    if (c === ':' && /^:\s/.test(rest)) return 1;
    if (c === '.' && /^\.\s+[\p{Lu}"“«]/u.test(rest)) {
      const head = s.slice(0, i);
      const word = /(\p{L}+)$/u.exec(head)?.[1] ?? '';
      if (/\)$/.test(head)) return 1;
      if (word.length > 1 && !ABBREVIATIONS.has(word.toLowerCase()) && !/\.\p{L}+$/u.test(head)) return 1;
    }
    if (c === ',') {
      const next = splitTopLevel(rest.slice(1), (t, j) => (t[j] === ',' || t[j] === ';' ? 1 : 0))[0].text;
      const kind = startsSeparateName(next);
      if (kind === 'acronym' || (kind === 'head' && completeName(s.slice(start, i)))) return 1;
    }
    return 0;
  };
}

/** Removes list markers, qualifiers and trailing punctuation from one part. */
function cleanPart(part: string): string {
  let s = part.trim();
  for (let prev = ''; prev !== s;) {
    prev = s;
    s = s
      .replace(LEADING_MARKER, '')
      .replace(/^[,;:.]+/, '')
      .trim();
  }
  return s
    .replace(/\s*\((?:by agreement|by consent|upon consent|if applicable|to be confirmed)\)\s*$/i, '')
    .replace(/,?\s*etc\.?$/i, '')
    .replace(/[\s.,;:\-–—]+$/, '')
    .trim();
}

/** The names an institution cell holds, plus the parts skipped because they are not names. */
export interface InstitutionSplit {
  names: string[];
  /** Prose ("Relevant partners will be involved") and category headings ("Civil Society"). */
  skipped: string[];
}

/**
 * Splits a "Lead Institution" or "Supporting Institution(s)" cell into institution names: on newlines,
 * ";", bullets (•, ●, ▪ and the Wingdings bullets pasted from Word), leading "-" or "–", enumerators
 * ("1.", "(a)"), sentence ends, a label's colon ("CSOs: ..."), "and" before "Ministry"/"Department"/"Office",
 * and on commas only when what follows reads as another name (a capitalized head word such as "Ministry"
 * first, one such as "Agency" last, or an acronym; never a lowercase word or a conjunction). So "Ministry of
 * Economy, Finance and Industry" stays one name. Nothing inside parentheses is split. Missing-value
 * markers and "None" give no name; names lose list markers and trailing punctuation and are deduplicated
 * by their institution key. Prose and bare category headings are returned as `skipped`, for a warning.
 */
export function splitInstitutions(cell: string | null | undefined): InstitutionSplit {
  if (cell == null) return { names: [], skipped: [] };
  let split = splitCache.get(cell);
  if (!split) {
    split = splitCell(cell);
    if (splitCache.size >= SPLIT_CACHE_SIZE) splitCache.clear();
    splitCache.set(cell, split);
  }
  return { names: [...split.names], skipped: [...split.skipped] };
}

/**
 * Cells already split: an institution cell repeats across a plan's commitments, and the two parts of an
 * import read each row once each. Bounded, so memory stays constant on any file.
 */
const splitCache = new Map<string, InstitutionSplit>();
const SPLIT_CACHE_SIZE = 4096;

function splitCell(cell: string): InstitutionSplit {
  const names: string[] = [];
  const skipped: string[] = [];
  let text = decodeEntities(cell)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00a0\t]/g, ' ');
  if (isMissing(text) || NO_INSTITUTION.has(fold(text).replace(/[.()]+$/, ''))) return { names, skipped };
  for (const heading of TEMPLATE_HEADINGS) text = text.replace(heading, '\n\n');
  const seen = new Set<string>();
  for (const line of logicalLines(text)) {
    const dashList = /^[-–—]/.test(line.trim());
    for (const piece of splitTopLevel(line, separatorAt(dashList))) {
      const name = normalizeName(cleanPart(piece.text));
      if (!/\p{L}{2}/u.test(name) || isMissing(name) || NO_INSTITUTION.has(fold(name))) continue;
      const words = name.split(' ');
      if (piece.sep.startsWith(':') && (words.length <= 3 || LABEL_START.test(name))) continue; // a label
      if (
        CATEGORY_ONLY.has(fold(name)) ||
        name.length > MAX_NAME_LENGTH ||
        words.length > MAX_NAME_WORDS ||
        (words.length >= 5 && PROSE.test(name))
      ) {
        skipped.push(name);
        continue;
      }
      const key = slug(name.toLowerCase());
      if (seen.has(key)) continue;
      seen.add(key);
      names.push(name);
    }
  }
  return { names, skipped };
}
// ---------------------------------------------------------------------------------------------------------
// Organization kinds
// ---------------------------------------------------------------------------------------------------------

/** Mirrors ORGANIZATION_KINDS of the organizations subgraph. */
export type InstitutionKind =
  'GOVERNMENT' | 'CIVIL_SOCIETY' | 'INTERNATIONAL' | 'PRIVATE' | 'ACADEMIC' | 'OTHER';

/** A guessed kind and classification ("ministry", "parliament", ...) for an institution name. */
export interface InstitutionClass {
  kind: InstitutionKind;
  classification: string | null;
}

/** International bodies by name or acronym; matched before any keyword ("World Bank" is not a private bank). */
const INTERNATIONAL = new RegExp(
  '\\b(?:undp|pnud|world bank|banco mundial|banque mondiale|oecd|ocde|european union|union europea|' +
    'union europeenne|eu|usaid|united states agency for international development|united nations|naciones unidas|nations unies|un-habitat|unicef|unesco|imf|' +
    'international monetary fund|fmi|giz|osce|council of europe|parliamentary assembly of the council of europe|' +
    'pace|international labou?r (?:office|organi[sz]ation)|ilo|national democratic institute|ndi|' +
    'westminster foundation for democracy|wfd|eurosocial|' +
    'parlamericas|hanns seidel|hans seidel|osiwa|sdc|afd|uk aid|international budget partnership|' +
    'world health organi[sz]ation|african development bank|inter-american development bank|idb)\\b',
);

/**
 * Keyword rules, tried in the order the keywords appear in the name: the leftmost keyword is usually the
 * head of the name ("Council for the Development of Civil Society" is a council; "Association of Social
 * Works of the House of Representatives" is an association).
 */
const KIND_RULES: ReadonlyArray<readonly [RegExp, InstitutionKind, string | null]> = [
  [/\bcentral bank|banco central|banque centrale|^bank of\b/, 'GOVERNMENT', 'central bank'],
  [
    /\bchambers? of (?:commerce|industry|economy|mines)|camara de comercio|chambre de commerce/,
    'PRIVATE',
    'chamber of commerce',
  ],
  [
    /\bprivate sector|sector privado|secteur prive|business (?:club|council)|employers/,
    'PRIVATE',
    'private sector',
  ],
  [
    /\b(?:company|companies|corporation|llc|ltd|inc|cjsc|d\.o\.o|d\.d|s\.a|plc|gmbh|empresa)\b/,
    'PRIVATE',
    'company',
  ],
  [/\bbank\b|\bbanco\b|\bbanque\b/, 'PRIVATE', 'bank'],
  [/\buniversit(?:y|ies|e)|universidad|faculty of|facultad de|school of law/, 'ACADEMIC', 'university'],
  [/\bacadem(?:y|ia|ics|ie)|academia\b/, 'ACADEMIC', 'academy'],
  [/\bschools?\b|\bcolleges?\b|\bescuela\b|\becole\b/, 'ACADEMIC', 'school'],
  [
    /\bresearch (?:centre|center|institute)|centro de investigaci|centre de recherche|think tanks?/,
    'ACADEMIC',
    'research centre',
  ],
  [
    /\btransparency international|\bngos?\b|\bongs?\b|non-governmental|non-profit|not-for-profit/,
    'CIVIL_SOCIETY',
    'ngo',
  ],
  [
    /\bcivil society|sociedad civil|societe civile|\bcsos?\b|\bosc\b|third sector/,
    'CIVIL_SOCIETY',
    'civil society organization',
  ],
  [/\bassociations?\b|\basociacion|\bassociacao|\bpublic association/, 'CIVIL_SOCIETY', 'association'],
  [/\bfoundations?\b|\bfundacion|\bfondation|\bstiftung|\btrust\b/, 'CIVIL_SOCIETY', 'foundation'],
  [/\bcoalitions?\b|\bcoalicion|\balliance\b|\balianza\b/, 'CIVIL_SOCIETY', 'coalition'],
  [/\bnetworks?\b|^red\b|\bred de\b|\breseau\b/, 'CIVIL_SOCIETY', 'network'],
  [
    /\btrade unions?|\bsyndicats?\b|\bsindicatos?\b|\bunion of workers|\bunion generale des travailleurs/,
    'CIVIL_SOCIETY',
    'trade union',
  ],
  [/\bministr(?:y|ies)|\bminister\b|\bministerio|\bministere|\bministerial\b/, 'GOVERNMENT', 'ministry'],
  [
    /\bparliaments?\b|\bparlamento|\bparlement\b|\bassembly\b|\basamblea|\bassemblee|\bsenate\b|\bsenado|\bsenat\b|\bcongress\b|\bcongreso|house of representatives|chamber of (?:deputies|senators)|camara de (?:diputad|senador)|\blegislature\b|\bpoder legislativo\b|\bknesset\b|\briigikogu\b|\bjogorku kenesh\b|\bsaeima\b|\bseimas\b|\boireachtas\b|\bdpr ri\b|\bclerk of (?:the )?(?:parliament|house)/,
    'GOVERNMENT',
    'parliament',
  ],
  [
    /\bmunicipalit(?:y|ies)|\bmunicipal\b|\bmunicipalidad|\bmunicipio|\bcity of\b|\bcity council|\bcommunes?\b|\blocal self-government|\blocal government|\bcounty (?:assembl|government)/,
    'GOVERNMENT',
    'municipality',
  ],
  [/\bcourts?\b|\btribunal|\bjuzgados?\b|\bjudiciary\b|\bjudicial\b/, 'GOVERNMENT', 'court'],
  [/\bagency|agencies|\bagencia|\bagence\b/, 'GOVERNMENT', 'agency'],
  [/\bdirectorate|\bdireccion\b|\bdirection\b/, 'GOVERNMENT', 'directorate'],
  [/\bdepartments?\b|\bdepartamento|\bdepartement/, 'GOVERNMENT', 'department'],
  [/\bcommissions?\b|\bcomision|\bcommissioner|\bcomisionado/, 'GOVERNMENT', 'commission'],
  [/\bauthorit(?:y|ies)|\bautoridad|\bautorite/, 'GOVERNMENT', 'authority'],
  [/\bsecretariat|\bsecretaria\b|\bsecretariado|\bsecretary\b|\bsecretaire/, 'GOVERNMENT', 'secretariat'],
  [/\bcouncil\b|\bconsejo\b|\bconseil\b/, 'GOVERNMENT', 'council'],
  [/\bcommittee\b|\bcomite\b/, 'GOVERNMENT', 'committee'],
  [/\boffice\b|\boficina\b|\bbureau\b|\bcabinet\b|\bchancellery\b/, 'GOVERNMENT', 'office'],
  [
    /\bpresidency\b|\bpresidencia\b|\bpresidence\b|\bpresident\b|\bprime minister/,
    'GOVERNMENT',
    'presidency',
  ],
  [
    /\bgovernment\b|\bgobierno\b|\bgouvernement\b|\bpoder ejecutivo\b|\bexecutive\b/,
    'GOVERNMENT',
    'government',
  ],
  [
    /\btreasury\b|\btesoro\b|\binspectorate\b|\bombudsman\b|\bdefensoria\b|\bprocuraduria\b|\bsuperintendencia\b|\battorney|\bauditor|\bcontraloria|\bpolice\b|\bregistr(?:y|ar)\b|\barchives?\b|\bservicom\b|\bstate (?:service|agency|committee|chancellery|archive)/,
    'GOVERNMENT',
    'agency',
  ],
  [/\bunit\b|\bunidad\b|\bservice\b|\bservicio\b/, 'GOVERNMENT', 'agency'],
];

/**
 * Guesses an institution's kind and classification from its name, with keyword rules in English, French
 * and Spanish, ignoring case and accents. International bodies are recognized by name first; then the
 * leftmost keyword found decides. Unknown names are OTHER with no classification.
 */
export function classifyInstitution(name: string): InstitutionClass {
  const f = fold(name);
  // OGP itself, but not a national "Open Government Partnership network" or forum named after it.
  if (INTERNATIONAL.test(f) || /^open government partnership(?: \(ogp\))?$/.test(f))
    return { kind: 'INTERNATIONAL', classification: 'international organization' };
  let best: { at: number; kind: InstitutionKind; classification: string | null } | null = null;
  for (const [re, kind, classification] of KIND_RULES) {
    const m = re.exec(f);
    if (m && (!best || m.index < best.at)) best = { at: m.index, kind, classification };
  }
  return best
    ? { kind: best.kind, classification: best.classification }
    : { kind: 'OTHER', classification: null };
}

const ES_WORDS = new Set(
  (
    'del los las y para por ministerio secretaria direccion comision oficina gobierno asamblea congreso camara ' +
    'fundacion asociacion sociedad organizaciones instituto unidad consejo poder republica nacional publica ' +
    'publico publicos tecnologias informacion acceso defensoria procuraduria superintendencia administracion ' +
    'despacho estado presidencia junta departamental ejecutivo legislativo senadores diputados diputadas ' +
    'juridica ciudadana transparencia integridad etica especial parlamento abierto coordinacion grupo red ' +
    'gestion desarrollo derechos humanos educacion comisiones observatorio'
  ).split(' '),
);
const FR_WORDS = new Set(
  (
    'des du le les et pour ministere direction generale conseil syndicats travailleurs entreprises petites ' +
    'moyennes nationale autorite haute societe civile charge aupres developpement numerique bibliotheque ' +
    'royaume collectivites territoriales partenariat ouvert'
  ).split(' '),
);
const EN_WORDS = new Set(
  'of the and for ministry department office agency committee council parliament government national with in'.split(
    ' ',
  ),
);

/**
 * The language an institution's name is most likely written in: Spanish or French when their function
 * words and institution words outnumber English ones, English otherwise. A simple heuristic: names in
 * other languages (Indonesian, Dutch, Portuguese...) fall back to English, the export's main language.
 */
export function guessNameLanguage(name: string): 'en' | 'fr' | 'es' {
  const words = fold(name)
    .replace(/[’']/g, ' ')
    .split(/[^a-z]+/);
  let es = /[ñáíóú¿¡]/i.test(name) ? 1 : 0;
  let frScore = /[èêëàâçôûœ]/i.test(name) ? 1 : 0;
  let enScore = 0;
  for (const w of words) {
    if (ES_WORDS.has(w)) es++;
    if (FR_WORDS.has(w)) frScore++;
    if (EN_WORDS.has(w)) enScore++;
  }
  if (es > enScore && es > frScore) return 'es';
  if (frScore > enScore && frScore > es) return 'fr';
  return 'en';
}

// ---------------------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------------------

/** The OGP member a commitment belongs to: a national government or a local government. */
export interface OgpMember {
  /** Organization id: `gov-ma` for a national member, `ogp-local-ngkd` for a local one. */
  id: string;
  /** The export's member code: ISO 3166-1 alpha-3 for nationals ("MAR"), OGP's own code for locals ("NGKD"). */
  code: string;
  /** ISO 3166-1 alpha-2 of the member's country, null when it could not be told. */
  country: string | null;
  membershipType: 'NATIONAL' | 'LOCAL';
  /** "Country/Locality" as written: "Morocco", "Kaduna State, Nigeria". */
  name: string;
  /** "National Or Local" as written: National, Legacy Local, Other. */
  rawType: string;
}

/** Country alpha-2 from an English country name ("United Kingdom", "Kosovo"). */
function countryFromName(name: string): string | null {
  const n = name.trim();
  if (fold(n) === 'kosovo') return KOSOVO_ISO2;
  return countries.getAlpha2Code(n, 'en') ?? countries.getSimpleAlpha2Code(n, 'en') ?? null;
}

/**
 * The member of one export row. "National" rows are national governments, keyed by the alpha-2 of their
 * ISO3 `Code`. "Legacy Local" rows are local governments keyed by their OGP code, their country read from
 * the part of "Country/Locality" after the last comma. "Other" is used for Kosovo only: its code XKX is not
 * in ISO 3166-1, and OGP lists it apart from the countries. Its action plan is a central government's plan,
 * so it is read as a national-level member (`gov-xk`, country XK), not as a local one; an "Other" row with a
 * locality ("City, Country") is read as local.
 */
export function resolveMember(
  rawType: string,
  code: string,
  locality: string,
): { member: OgpMember | null; problem: string | null; warnings: string[] } {
  const type = fold(rawType);
  const warnings: string[] = [];
  const c = code.trim().toUpperCase();
  const name = locality.trim();
  if (!c) return { member: null, problem: 'no member Code', warnings };
  const national = (iso2: string): OgpMember => ({
    id: nationalGovernmentId(iso2),
    code: c,
    country: iso2,
    membershipType: 'NATIONAL',
    name,
    rawType,
  });
  if (type === 'national' || (type === 'other' && !name.includes(','))) {
    const iso2 = c === 'XKX' ? KOSOVO_ISO2 : countries.alpha3ToAlpha2(c);
    if (iso2) return { member: national(iso2), problem: null, warnings };
    const byName = countryFromName(name);
    if (byName) {
      warnings.push(`member Code "${c}" is not ISO 3166-1 alpha-3; country read from "${name}"`);
      return { member: national(byName), problem: null, warnings };
    }
    return { member: null, problem: `member Code "${c}" is not an ISO 3166-1 alpha-3 code`, warnings };
  }
  if (type === 'legacy local' || type === 'local' || type === 'other') {
    const countryName = name.includes(',') ? name.slice(name.lastIndexOf(',') + 1) : name;
    let country = countryFromName(countryName);
    // OGP local codes start with the country's alpha-2 ("NGKD", "GBSC"): a cross-check, or a fallback.
    const prefix = c.slice(0, 2);
    if (!country) {
      if (countries.isValid(prefix)) {
        country = prefix;
        warnings.push(
          `country "${countryName.trim()}" not recognized; taken from the member code prefix ${prefix}`,
        );
      } else warnings.push(`country "${countryName.trim()}" not recognized; member country left unknown`);
    } else if (prefix !== country) {
      warnings.push(`member code ${c} does not start with the country code ${country}`);
    }
    return {
      member: { id: ogpLocalMemberId(c), code: c, country, membershipType: 'LOCAL', name, rawType },
      problem: null,
      warnings,
    };
  }
  return { member: null, problem: `unknown "National Or Local" value "${rawType}"`, warnings };
}

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

// ---------------------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------------------

/** An institution named in a row, with its organization id. */
export interface InstitutionRef {
  id: string;
  name: string;
}

/** A date cell: the ISO value (null when unknown or unreadable) and the text exactly as the export wrote it. */
export interface OgpDate {
  iso: string | null;
  text: string | null;
}

/** One commitment of the export, typed and normalized. */
export interface OgpExportRow {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  /** "Commitment Unique Identifier", e.g. "MO0012". */
  id: string;
  /** "Action Plan ID", e.g. "AP_MAR01". */
  actionPlanId: string;
  member: OgpMember;
  actionPlanNumber: number | null;
  yearOfSubmission: number | null;
  actionPlanEndYear: number | null;
  theme: string | null;
  title: string;
  shortTitle: string | null;
  /** "Full Text", as is. */
  description: string | null;
  startDate: OgpDate;
  endDate: OgpDate;
  /** The first name of "Lead Institution". */
  lead: InstitutionRef | null;
  /** Other names of the lead cell, then "Supporting Institution(s)", in order, deduplicated, never the lead. */
  supporters: InstitutionRef[];
  /** Names of the policy-area flag columns set to 1. */
  policyAreas: string[];
  ogpValues: OgpValueCode[];
  specificity: Specificity | null;
  verifiable: boolean | null;
  potentialImpact: PotentialImpact | null;
  completionMidterm: Completion | null;
  completionEndOfTerm: Completion | null;
  didItOpenGovernment: DidItOpenGovernment | null;
  /** The row's own "URL": the commitment's page on opengovpartnership.org. */
  url: string | null;
}

/** What {@link readOgpExport} read: the rows kept, the rows refused with why, and caveats on kept rows. */
export interface OgpExport {
  rows: OgpExportRow[];
  refused: Refusal[];
  warnings: RowWarning[];
  /** The policy-area columns of the header, in order. */
  policyAreaColumns: string[];
}

/** Columns the reader needs; a file without one of them is not the export this code knows. */
export const OGP_COLUMNS = {
  id: 'Commitment Unique Identifier',
  locality: 'Country/Locality',
  actionPlanNumber: 'Action Plan Number',
  code: 'Code',
  nationalOrLocal: 'National Or Local',
  yearOfSubmission: 'Year Of Submission',
  actionPlanEndYear: 'Action Plan End Year',
  theme: 'Theme',
  title: 'Commitment Title',
  shortTitle: 'Short Title',
  fullText: 'Full Text',
  startDate: 'Start Date',
  endDate: 'End Date',
  lead: 'Lead Institution',
  supporting: 'Supporting Institution(s)',
  specificity: 'Specificity',
  verifiable: 'Verifiable',
  potentialImpact: 'Potential Impact',
  completionMidterm: 'Completion (Progress Report)',
  completionEndOfTerm: 'Completion (End Of Term)',
  didItOpenGovernment: 'Did It Open Government (Overall)',
  url: 'URL',
  actionPlanId: 'Action Plan ID',
} as const;

/** First and last policy-area flag columns of the export; the flags are every column between them. */
export const POLICY_AREA_FIRST = 'Anti-Corruption and Integrity';
export const POLICY_AREA_LAST = 'Money in Politics';

/**
 * The export's 171 columns, in the order of ogp-commitments-export.csv. The importer knows every one of
 * them (most are IRM columns this code does not read), so a full export gives no "unknown column" warning,
 * and a column that is none of these is one OGP added since: ignored, with a warning.
 */
// prettier-ignore
export const OGP_EXPORT_HEADER: readonly string[] = [
  'Commitment Unique Identifier', 'Country/Locality', 'Action Plan Number', 'Commitment Number', 'Code',
  'Region', 'National Or Local', 'Commitment Dummy', 'Year Of Submission', 'Action Plan End Year',
  'Action Plan Duration (Years)', 'Theme', 'Commitment Title', 'Short Title', 'Full Text', 'Start Date',
  'End Date', 'Lead Institution', 'Supporting Institution(s)', 'Anti-Corruption and Integrity',
  'Anti-corruption Institutions', 'Anti-Corruption Strategies', 'Asset Disclosure', 'Audits',
  'Beneficial Ownership', 'Conflicts Of Interest', 'Elections', 'Political Finance', 'Lobbying',
  'Open Contracting', 'Public Procurement', 'Right To Information', 'Whistleblower Protections',
  'Civic Space and Enabling Environment', 'Freedom of Assembly', 'Freedom of Association',
  'Freedom of Expression', 'Democratizing Decision-Making', 'Digital Participation',
  'Mainstreaming Participation', 'Regulatory Governance', 'Social Accountability', 'Digital Governance',
  'Automated Decision-making', 'Data Stewardship and Privacy', 'Digital Inclusion',
  'Disinformation/Misinformation', 'Online Civic Space', 'Environment & Climate', 'Climate Finance',
  'Climate Mitigation and Adaptation', 'Environmental Regulation', 'International Environmental Agreements',
  'Fiscal Openness', 'Publication Of Budget/Fiscal Information',
  'Public Participation In Budget/Fiscal Policy', 'Oversight Of Budget/Fiscal Policies',
  'Stimulus and Economic Recovery', 'Tax', 'Debt', 'Inclusion', 'Gender', 'Gender-Based Violence',
  'Economic Inclusion', 'LGBTQIA+', 'People with Disabilities', 'Youth', 'Justice', 'Access to Justice',
  'Open Justice', 'Policing & Corrections', 'Judiciary', 'Open Parliaments', 'Public Service Delivery',
  'Citizenship & Immigration', 'Education', 'Health & Nutrition', 'Infrastructure & Transport',
  'Water & Sanitation', 'Capacity Building', 'Digital Transformation', 'Legislation', 'Regulation',
  'Legislative Oversight', 'Open Data', 'Public Participation', 'Aid', 'Energy', 'Extractive Industries',
  'Land and Spatial Planning', 'Media & Telecommunications', 'Science & Technology',
  'Security & Public Safety', 'Labor', 'Private Sector', 'Subnational', 'Human Rights',
  'Open Parliament Plan', 'Sustainable Development Goals', 'Open Data (Water/Sanitation)',
  'Open Data (Health)', 'Open Data (Education)', 'Participation in Lawmaking', 'Access to information',
  'Money in Politics', 'Report Publication Year (Progress Report)', 'Compound', 'Cluster', 'Specificity',
  '_Specificity', 'Verifiable', 'OGP Value Access To Information', 'OGP Value Civic Participation',
  'OGP Value Public Accountability', 'OGP Value Technology', '_Relevant', 'Potential Impact',
  '_Potential Impact', 'Completion (Progress Report)', '_CompletionProgress', 'Starred (2015 Only)',
  'Starred (Current Formula) Progress Report', 'Potential for Results', '_Potential for Results',
  'Cluster (AP Review)', 'Cluster Commitment ID(s)', 'Report Publication Year (End Of Term)',
  'Completion (End Of Term)', '_CompletionEndTerm', 'Change In Completion', '_ChangeCompletion',
  'Early Results', '_Early Results', 'Did It Open Government (Overall)', '_OpenGovernment',
  'Did It Open Government (Access To Information)', '_DIOGATI',
  'Did It Open Government (Civic Participation)', '_DIOGCP', 'Did It Open Government: Public Accountability',
  '_DIOGPA', 'Starred (Current Formula) End of Term', 'Carried Forward', 'Most Recently Assessed',
  'Star - Most Recently Assessed', 'IRM Assessed', 'Updated? (Website)', 'Active Commitment', 'Max star',
  'Ambition Assessed', 'Comp Assessed', 'DIOG Assessed', 'Midterm Only', 'Max Completion', 'Raw Completion',
  'High Completion', 'High Ambition', 'High DIOG', 'Ambitious and complete, or DIOG',
  'Ambitious but not complete', 'Complete but not ambitious', 'Not complete or ambitious', 'Not reviewed',
  'CHECKSUM', 'IRM-Based Score', 'Binding constraint', 'URL', 'Latest IRM Report', 'Subnational in NAPs',
  'Action Plan ID', 'id',
];

/**
 * The policy-area flag columns of the export this code knows (86), in the export's order. The seed reads
 * the columns between {@link POLICY_AREA_FIRST} and {@link POLICY_AREA_LAST} of the file it is given; the
 * importer, whose files may have their columns in any order, reads these by name.
 */
export const OGP_POLICY_AREAS: readonly string[] = OGP_EXPORT_HEADER.slice(
  OGP_EXPORT_HEADER.indexOf(POLICY_AREA_FIRST),
  OGP_EXPORT_HEADER.indexOf(POLICY_AREA_LAST) + 1,
);

/** MySQL TEXT holds 65,535 bytes: a longer description could not be stored whole. */
export const MAX_DESCRIPTION_BYTES = 65535;

/** The columns a row's text goes into whole, with the most characters their database columns hold. */
const MAX_CHARACTERS: ReadonlyArray<readonly [string, number]> = [
  [OGP_COLUMNS.id, 64],
  [OGP_COLUMNS.actionPlanId, 64],
  [OGP_COLUMNS.locality, 255],
  [OGP_COLUMNS.theme, 255],
  [OGP_COLUMNS.startDate, 255],
  [OGP_COLUMNS.endDate, 255],
];
/** The columns stored in a TEXT column, which holds {@link MAX_DESCRIPTION_BYTES} bytes. */
const TEXT_COLUMNS = [OGP_COLUMNS.title, OGP_COLUMNS.shortTitle, OGP_COLUMNS.fullText];
/** The provenance URL column holds 1,024 characters. */
const MAX_URL_LENGTH = 1024;

/** Something wrong with (or worth saying about) a cell of one row: its column, the value and why. */
export interface OgpCellIssue {
  column: string | null;
  value: string | null;
  message: string;
}

/**
 * What {@link parseOgpExportRow} made of one row: the typed row and the caveats on its cells, or why the row
 * cannot be loaded (then `id` is its identifier when it has one).
 */
export type OgpRowOutcome =
  | { row: OgpExportRow; refusal: null; warnings: OgpCellIssue[] }
  | { row: null; id: string | null; refusal: OgpCellIssue; warnings: OgpCellIssue[] };

/** A row's "Commitment Unique Identifier", null when missing. */
export const ogpRowId = (get: (column: string) => string): string | null => textOrNull(get(OGP_COLUMNS.id));

/**
 * Reads one row of the export into a typed, normalized row: the one validator the seed (readOgpExport) and
 * the `ogp-commitments` importer share, so both refuse and warn about the same rows in the same words.
 * `get` gives a cell by column name ('' when absent); `policyAreaColumns` are the flag columns to read.
 *
 * Refused (the row cannot be loaded): no "Commitment Unique Identifier", "Action Plan ID" or "Commitment
 * Title"; a member that cannot be told (no Code, a national Code that is no ISO 3166-1 alpha-3 country, an
 * unknown "National Or Local"); a value longer than its database column holds. Warned (the cell is read as
 * unknown, the row loaded): an unreadable date or whole number, an IRM value off its scale, a flag other than
 * 0/1, a URL that is not one, a local member's country not recognized, parts of institution cells that are not
 * names. Duplicate identifiers are the caller's to find (it sees the other rows).
 */
export function parseOgpExportRow(
  get: (column: string) => string,
  line: number,
  policyAreaColumns: readonly string[],
): OgpRowOutcome {
  const id = ogpRowId(get);
  const refuse = (column: string, value: string | null, message: string): OgpRowOutcome => ({
    row: null,
    id,
    refusal: { column, value, message },
    warnings: [],
  });
  if (!id) return refuse(OGP_COLUMNS.id, get(OGP_COLUMNS.id), `no "${OGP_COLUMNS.id}"`);
  const actionPlanId = textOrNull(get(OGP_COLUMNS.actionPlanId));
  if (!actionPlanId)
    return refuse(
      OGP_COLUMNS.actionPlanId,
      get(OGP_COLUMNS.actionPlanId),
      `no "${OGP_COLUMNS.actionPlanId}"`,
    );
  const title = textOrNull(get(OGP_COLUMNS.title));
  if (!title) return refuse(OGP_COLUMNS.title, get(OGP_COLUMNS.title), `no "${OGP_COLUMNS.title}"`);
  const description = textOrNull(get(OGP_COLUMNS.fullText)) === null ? null : get(OGP_COLUMNS.fullText);
  const bytes = description ? Buffer.byteLength(description, 'utf8') : 0;
  if (bytes > MAX_DESCRIPTION_BYTES) {
    return refuse(
      OGP_COLUMNS.fullText,
      description,
      `"${OGP_COLUMNS.fullText}" is ${bytes} bytes in UTF-8; the description column holds ${MAX_DESCRIPTION_BYTES}`,
    );
  }
  for (const column of TEXT_COLUMNS) {
    const n = Buffer.byteLength(get(column).trim(), 'utf8');
    if (n > MAX_DESCRIPTION_BYTES)
      return refuse(
        column,
        get(column),
        `"${column}" is ${n} bytes in UTF-8; the column holds ${MAX_DESCRIPTION_BYTES}`,
      );
  }
  for (const [column, max] of MAX_CHARACTERS) {
    const n = [...get(column).trim()].length;
    if (n > max)
      return refuse(column, get(column), `"${column}" is ${n} characters long; the column holds ${max}`);
  }
  const resolved = resolveMember(
    get(OGP_COLUMNS.nationalOrLocal),
    get(OGP_COLUMNS.code),
    get(OGP_COLUMNS.locality),
  );
  if (!resolved.member) {
    const column = resolved.problem?.startsWith('unknown "National Or Local"')
      ? OGP_COLUMNS.nationalOrLocal
      : OGP_COLUMNS.code;
    return refuse(column, get(column), resolved.problem ?? 'member unknown');
  }
  const member = resolved.member;
  const warnings: OgpCellIssue[] = [];
  const warn = (column: string, message: string) => warnings.push({ column, value: get(column), message });
  for (const w of resolved.warnings) warn(OGP_COLUMNS.code, w);

  const read = <T>(column: string, parser: (raw: string) => Parsed<T>): T | null => {
    const r = parser(get(column));
    if (r.warning) warn(column, r.warning);
    return r.value;
  };
  const int = (column: string): number | null =>
    read(column, (raw) => {
      if (isMissing(raw)) return { value: null, warning: null };
      return /^\s*\d+\s*$/.test(raw)
        ? { value: Number(raw), warning: null }
        : { value: null, warning: `unexpected value "${raw}"; expected a whole number` };
    });
  const date = (column: string): OgpDate => {
    const raw = get(column).trim();
    return { iso: read(column, parseOgpDate), text: raw === '' ? null : raw };
  };

  // Institutions: ids are per country, so the same ministry named by two commitments is one organization.
  const inst = (name: string): InstitutionRef => ({ id: institutionId(member.country, name), name });
  const leadSplit = splitInstitutions(get(OGP_COLUMNS.lead));
  const supportSplit = splitInstitutions(get(OGP_COLUMNS.supporting));
  for (const s of leadSplit.skipped) warn(OGP_COLUMNS.lead, `part not read as an institution name: "${s}"`);
  for (const s of supportSplit.skipped)
    warn(OGP_COLUMNS.supporting, `part not read as an institution name: "${s}"`);
  const lead = leadSplit.names.length ? inst(leadSplit.names[0]) : null;
  if (leadSplit.names.length > 1) {
    warn(
      OGP_COLUMNS.lead,
      `${leadSplit.names.length} names; "${leadSplit.names[0]}" taken as the lead, the others as supporters`,
    );
  }
  const supporters: InstitutionRef[] = [];
  const taken = new Set(lead ? [lead.id] : []);
  for (const name of [...leadSplit.names.slice(1), ...supportSplit.names]) {
    const ref = inst(name);
    if (taken.has(ref.id)) continue;
    taken.add(ref.id);
    supporters.push(ref);
  }

  const policyAreas: string[] = [];
  for (const column of policyAreaColumns) {
    if (read(column, parseFlag)) policyAreas.push(column);
  }
  const ogpValues: OgpValueCode[] = [];
  for (const [column, value] of OGP_VALUE_COLUMNS) {
    if (read(column, parseFlag)) ogpValues.push(value);
  }
  const rawUrl = textOrNull(get(OGP_COLUMNS.url));
  const isUrl = !!rawUrl && /^https?:\/\//.test(rawUrl);
  if (rawUrl && !isUrl) warn(OGP_COLUMNS.url, `not a URL: "${rawUrl}"`);
  else if (rawUrl && rawUrl.length > MAX_URL_LENGTH)
    warn(OGP_COLUMNS.url, `longer than ${MAX_URL_LENGTH} characters; the dataset's URL is cited instead`);
  const url = isUrl && rawUrl.length <= MAX_URL_LENGTH ? rawUrl : null;

  const row: OgpExportRow = {
    line,
    id,
    actionPlanId,
    member,
    actionPlanNumber: int(OGP_COLUMNS.actionPlanNumber),
    yearOfSubmission: int(OGP_COLUMNS.yearOfSubmission),
    actionPlanEndYear: int(OGP_COLUMNS.actionPlanEndYear),
    theme: textOrNull(get(OGP_COLUMNS.theme)),
    title,
    shortTitle: textOrNull(get(OGP_COLUMNS.shortTitle)),
    description,
    startDate: date(OGP_COLUMNS.startDate),
    endDate: date(OGP_COLUMNS.endDate),
    lead,
    supporters,
    policyAreas,
    ogpValues,
    specificity: read(OGP_COLUMNS.specificity, parseSpecificity),
    verifiable: read(OGP_COLUMNS.verifiable, parseVerifiable),
    potentialImpact: read(OGP_COLUMNS.potentialImpact, parsePotentialImpact),
    completionMidterm: read(OGP_COLUMNS.completionMidterm, parseCompletion),
    completionEndOfTerm: read(OGP_COLUMNS.completionEndOfTerm, parseCompletion),
    didItOpenGovernment: read(OGP_COLUMNS.didItOpenGovernment, parseDidItOpenGovernment),
    url,
  };
  return { row, refusal: null, warnings };
}

/**
 * Reads the OGP commitments export (by column name, never by position) into typed rows, for the built-in
 * seed: each row through {@link parseOgpExportRow} (refused rows are reported with the reason, unreadable
 * cells become null with a warning naming the row, the column and the value), plus rows whose field count
 * differs from the header's and duplicate identifiers, refused. Nothing is dropped silently.
 */
export function readOgpExport(path: string = datasetPath(SOURCES.ogpCommitments.file)): OgpExport {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const records = parse(text, {
    bom: true,
    relax_column_count: true,
    info: true,
    skip_empty_lines: true,
  }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  if (!records.length) throw new Error(`${path}: empty file, expected the OGP commitments export header`);
  const header = records[0].record.map((h) => h.trim());
  const col = new Map<string, number>();
  header.forEach((h, i) => {
    if (!col.has(h)) col.set(h, i);
  });
  for (const name of Object.values(OGP_COLUMNS)) {
    if (!col.has(name)) throw new Error(`${path}: no column "${name}"; is this the OGP commitments export?`);
  }
  for (const [name] of OGP_VALUE_COLUMNS) {
    if (!col.has(name)) throw new Error(`${path}: no column "${name}"`);
  }
  const first = col.get(POLICY_AREA_FIRST);
  const last = col.get(POLICY_AREA_LAST);
  if (first === undefined || last === undefined || last < first) {
    throw new Error(
      `${path}: policy-area columns "${POLICY_AREA_FIRST}".."${POLICY_AREA_LAST}" not found in order`,
    );
  }
  const policyAreaColumns = header.slice(first, last + 1);

  const rows: OgpExportRow[] = [];
  const refused: Refusal[] = [];
  const warnings: RowWarning[] = [];
  const seenIds = new Map<string, number>();
  let previousEnd = records[0].info.lines;

  for (const { record, info } of records.slice(1)) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    const get = (name: string) => {
      const i = col.get(name);
      return i === undefined ? '' : (record[i] ?? '');
    };
    const id = ogpRowId(get);
    if (record.length !== header.length) {
      refused.push({
        record: id ?? `line ${line}`,
        reason: `${record.length} fields, the header has ${header.length}`,
      });
      continue;
    }
    if (id) {
      if (seenIds.has(id)) {
        refused.push({
          record: `line ${line}`,
          reason: `duplicate "${OGP_COLUMNS.id}" ${id} (first on line ${seenIds.get(id)})`,
        });
        continue;
      }
      seenIds.set(id, line);
    }
    const out = parseOgpExportRow(get, line, policyAreaColumns);
    if (!out.row) {
      refused.push({ record: out.id ?? `line ${line}`, reason: out.refusal.message });
      continue;
    }
    for (const w of out.warnings)
      warnings.push({ record: id!, column: w.column ?? undefined, message: `${w.column}: ${w.message}` });
    rows.push(out.row);
  }
  return { rows, refused, warnings, policyAreaColumns };
}

// ---------------------------------------------------------------------------------------------------------
// For the `ogp-commitments` importer
// ---------------------------------------------------------------------------------------------------------

/** The columns the reader needs: its named columns, the OGP value flags and the policy-area flags. */
const OGP_READ_COLUMNS: readonly string[] = [
  ...Object.values(OGP_COLUMNS),
  ...OGP_VALUE_COLUMNS.map(([c]) => c),
  ...OGP_POLICY_AREAS,
];

/**
 * The column layout of the export for the importer's CSV reader: every column of the export is known (so
 * only a column OGP added since is warned about), the ones the reader needs are required. Columns are found
 * by header, in any order. The columns read come last: "_Specificity" and "Specificity" compare alike
 * loosely, and the later column wins a loose match (an exact match always wins).
 */
export const OGP_IMPORT_LAYOUT: CsvLayout = {
  columns: [
    ...OGP_EXPORT_HEADER.filter((c) => !OGP_READ_COLUMNS.includes(c)).map((name) => ({ name })),
    ...OGP_READ_COLUMNS.map((name) => ({ name, required: true })),
  ],
};

/**
 * Streams the export's records (line and cells by column name) for an importer part; a record the CSV reader
 * refuses (broken quoting, not UTF-8...) is refused through `ctx` and counted in `ids` as unidentified.
 */
export async function* readOgpExportRecords(
  ctx: ImportContext,
  ids?: OgpIdentifiers,
): AsyncGenerator<SourceRow<Record<string, string>>> {
  const sink: ImportContext = {
    ...ctx,
    refuse: (issues) => {
      if (ids) ids.unidentified += 1;
      ctx.refuse(issues);
    },
  };
  for await (const r of readCsv(ctx.path, ctx.file, ctx.facts, OGP_IMPORT_LAYOUT, sink))
    yield { line: r.line, data: r.values };
}

/**
 * Validates one record of the export for an importer part, through {@link parseOgpExportRow} (the seed's
 * validator): a refused row is refused through `ctx` with its line, column, value and reason, its warnings
 * given to `ctx` (only those about `warnAbout` columns when given). Both parts of the import call this on the
 * same records, so they refuse the same rows in the same words (the pipeline reports each issue once).
 */
export function validateOgpRecord(
  line: number,
  values: Readonly<Record<string, string>>,
  ctx: Pick<ImportContext, 'refuse' | 'warn' | 'issue'>,
  warnAbout?: (column: string | null) => boolean,
): OgpExportRow | null {
  const out = parseOgpExportRow((c) => values[c] ?? '', line, OGP_POLICY_AREAS);
  if (!out.row) {
    ctx.refuse([ctx.issue(line, out.refusal.column, out.refusal.value, out.refusal.message)]);
    return null;
  }
  for (const w of out.warnings)
    if (!warnAbout || warnAbout(w.column)) ctx.warn(ctx.issue(line, w.column, w.value, w.message));
  return out.row;
}

/**
 * The identifiers an import has read so far and where: a second row with one is refused as a duplicate with
 * the words the pipeline uses for a duplicate key, by both parts of the import alike, whichever batch the
 * first row was in. Holds one entry per commitment (a few bytes each).
 */
export class OgpIdentifiers {
  private readonly lines = new Map<string, number>();
  private readonly refusedIds = new Set<string>();

  /** Records a valid row's id; false (and the row refused through `ctx`) when an earlier row had it. */
  accept(id: string, line: number, ctx: Pick<ImportContext, 'refuse' | 'issue'>): boolean {
    const first = this.lines.get(id);
    if (first !== undefined) {
      ctx.refuse([ctx.issue(line, null, id, `duplicate key: the same record as line ${first}`)]);
      return false;
    }
    this.lines.set(id, line);
    return true;
  }

  /**
   * Refused rows whose identifier is unknown (no identifier, or a record the CSV reader could not read): any
   * of them may be the row of a stored commitment, so --prune must not take their absence for a removal.
   */
  unidentified = 0;

  /** Remembers the id of a refused row: it is in the file, so not "missing", and never pruned. */
  refused(values: Readonly<Record<string, string>>): void {
    const id = ogpRowId((c) => values[c] ?? '');
    if (!id) this.unidentified += 1;
    else if (!this.lines.has(id)) this.refusedIds.add(id);
  }

  /** Ids of rows the file has but that were refused (and no valid row with the same id). */
  isRefused(id: string): boolean {
    return this.refusedIds.has(id) && !this.lines.has(id);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The OGP Local members file
// ---------------------------------------------------------------------------------------------------------

const localizedNames = z.object({
  fr: z.string().optional(),
  en: z.string().optional(),
  ar: z.string().optional(),
  es: z.string().optional(),
});

const organizationKind = z.enum(ORGANIZATION_KINDS);

const ogpLocalSchema = z.object({
  sources: z.record(
    z.string(),
    z.object({ title: z.string(), url: z.string(), license: z.string().nullable().optional() }),
  ),
  members: z.array(
    z.object({
      key: z.string(),
      names: localizedNames,
      country: z.string().length(2),
      level: z.string(),
      identifiers: z.array(z.object({ scheme: z.string(), value: z.string() })).optional(),
      ogp: z.object({
        type: z.enum(['NATIONAL', 'LOCAL']),
        joined: z.string().optional(),
        source: z.string(),
      }),
      government: z.object({ names: localizedNames, kind: organizationKind }).optional(),
      actionPlans: z
        .array(
          z.object({
            period: z.object({ start: z.string(), end: z.string().optional() }),
            submitted: z.string().optional(),
            source: z.string(),
            commitmentsDescribed: z.array(z.object({ names: localizedNames, source: z.string() })).optional(),
          }),
        )
        .optional(),
    }),
  ),
  organizations: z.array(
    z.object({
      key: z.string(),
      names: localizedNames,
      kind: organizationKind,
      country: z.string().length(2).optional(),
      source: z.string(),
    }),
  ),
});

/** The OGP Local members file, as validated. */
export type OgpLocalFile = z.infer<typeof ogpLocalSchema>;
export type OgpLocalMemberRecord = OgpLocalFile['members'][number];

/** A member of the OGP Local file with the organization id of the administrative unit it is. */
export interface OgpLocalMember {
  record: OgpLocalMemberRecord;
  /** Owned by the admin-division seed: `ma-region-01`, `tn-municipality-33011`. */
  id: string;
}

/** What {@link readOgpLocal} read. */
export interface OgpLocal {
  file: OgpLocalFile;
  members: OgpLocalMember[];
  refused: Refusal[];
  warnings: RowWarning[];
}

const sameName = (a: string | undefined, b: string | undefined) =>
  !!a &&
  !!b &&
  fold(a)
    .replace(/[^a-z0-9]+/g, ' ')
    .trim() ===
    fold(b)
      .replace(/[^a-z0-9]+/g, ' ')
      .trim();

/**
 * Reads the OGP Local members file and finds, for each member, the administrative unit it is: a Moroccan
 * region by its name in morocco/regions.json (Béni Mellal-Khénifra is REGION_01 there), a Tunisian
 * municipality by its official code (El Kef is 33011), checked against tunisia/municipalities.csv. The
 * member records then enrich those units (OGP membership) instead of creating a second organization.
 */
export function readOgpLocal(dir: string = DATASETS_DIR): OgpLocal {
  const path = datasetPath(SOURCES.ogpLocal.file, dir);
  const file = ogpLocalSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const members: OgpLocalMember[] = [];
  const refused: Refusal[] = [];
  const warnings: RowWarning[] = [];
  let regions: { id: string; name: Record<string, string> }[] | null = null;
  let municipalities: Set<string> | null = null;

  for (const m of file.members) {
    const unknownSource = [m.ogp.source, ...(m.actionPlans ?? []).map((p) => p.source)].find(
      (s) => !file.sources[s],
    );
    if (unknownSource)
      warnings.push({ record: m.key, message: `source "${unknownSource}" is not in "sources"` });
    if (m.country === 'MA' && m.level === 'region') {
      regions ??= (
        JSON.parse(readFileSync(datasetPath(SOURCES.moroccoRegions.file, dir), 'utf8')) as {
          regions: { id: string; name: Record<string, string> }[];
        }
      ).regions;
      const region = regions.find((r) => sameName(r.name.fr, m.names.fr) || sameName(r.name.en, m.names.en));
      if (region) members.push({ record: m, id: moroccoRegionId(region.id) });
      else refused.push({ record: m.key, reason: `no Moroccan region named "${m.names.fr ?? m.names.en}"` });
    } else if (m.country === 'TN' && m.level === 'municipality') {
      const code = m.identifiers?.find((i) => i.scheme === 'tn-municipality')?.value;
      if (!code) {
        refused.push({ record: m.key, reason: 'Tunisian municipality without a tn-municipality identifier' });
        continue;
      }
      municipalities ??= new Set(
        (
          parse(readFileSync(datasetPath(SOURCES.tunisiaMunicipalities.file, dir), 'utf8'), {
            bom: true,
            columns: true,
          }) as Record<string, string>[]
        ).map((r) => r.municipal_id),
      );
      if (!municipalities.has(code)) {
        warnings.push({
          record: m.key,
          message: `municipality ${code} is not in ${SOURCES.tunisiaMunicipalities.file}`,
        });
      }
      members.push({ record: m, id: tunisiaMunicipalityId(code) });
    } else {
      refused.push({
        record: m.key,
        reason: `no administrative unit known for level "${m.level}" in ${m.country}`,
      });
    }
  }
  return { file, members, refused, warnings };
}
