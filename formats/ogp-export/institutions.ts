import { normalizeName, slug } from '@civic/formats/keys';
import { fold, isMissing } from './cells';

/*
 * Splitting the export's "Lead Institution" and "Supporting Institution(s)" cells (free text pasted from
 * action plans: lists, bullets, template headings, prose) into institution names.
 */

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
  'ph',
]);

/** Degrees and company forms after a person's or a company's name: ", Ph.D.", ", Inc." never start a name. */
const AFTER_NAME = /^(?:Ph\.?\s?D|M\.?\s?D|M\.?\s?Sc|M\.?\s?A|LL\.?\s?[BM]|MBA|Esq|Jr|Sr|Inc|Ltd|LLC)\b\.?/;

/**
 * Phrases that join institutions in a sentence ("X in cooperation with the Y", "X, at the behest of the Y"):
 * never part of a name, they separate two.
 */
const JOINING_PHRASE =
  /^,?\s+(?:in\s+(?:close\s+)?(?:cooperation|collaboration|coordination|partnership|consultation)\s+with|at\s+the\s+(?:behest|request|initiative|proposal)\s+of|with\s+the\s+support\s+of)\s+(?:the\s+)?/i;

/**
 * The start of a sentence saying what an institution does ("Approval of the law by the Council ...",
 * "Approval by the Parliament ..."): removed, so the institution acting remains.
 */
const ACTION_BY =
  /^(?:approval|adoption|enactment|passage|ratification|endorsement)\b[^,;()]{0,40}?\bby\s+(?:the\s+)?(?=\p{Lu})/iu;

/** Words naming a unit of an institution: "Ministry of Finance: Fiscal Policy and Planning Dept, ...". */
const UNIT_WORDS =
  /\b(?:dept|depts|department|departments|division|divisions|unit|units|office|offices|directorate|directorates|bureau|section|team|departamento|direcci[oó]n|unidad|oficina|d[ée]partement|service)\.?$/i;

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
  'ombudsman', 'registry', 'registrar', 'dept', 'archives', 'police', 'judiciary', 'legislature', 'inspection',
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
  if (!first || !/^[\p{Lu}"“«(]/u.test(first) || CONJUNCTION.test(first) || AFTER_NAME.test(part))
    return null;
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

/** Titles of a person: "Deputy Prime Minister and the Minister of Justice" is one person, not two bodies. */
const PERSON_TITLE =
  /^(?:minister|ministers|ministro|ministre|secretary|commissioner|president|governor|mayor)$/;

/**
 * Does the text start with an institution's name: capitalized words up to a head word among the first three
 * ("Ministry of ...", "Slovak National Center ..."; not "Relations with Parliament", not "Minister of ...")?
 */
function headFirst(rest: string): boolean {
  const tokens = rest.trim().split(/\s+/).slice(0, 3);
  for (const token of tokens) {
    if (!/^[\p{Lu}"“«]/u.test(token)) return false;
    const word = nameWords(token)[0] ?? '';
    if (HEAD_RE.test(word)) return !PERSON_TITLE.test(word);
  }
  return false;
}

/** Does the text hold an institution's head word ("Senado", "Prime Ministry/Directorate of ...")? */
const hasHeadWord = (text: string) => nameWords(text).some((w) => HEAD_RE.test(w));

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
    if (c === ',' || /\s/.test(c)) {
      const joining = JOINING_PHRASE.exec(rest);
      if (joining) return joining[0].length;
      // A spaced dash between two names: "Congreso de la República. Senado – Cámara de Representantes",
      // "... Policies - Legislation and Opinion Bureau - Ministry of ..."; not "Society for Transparency - Delna"
      // nor "Ministry of ... – division of ...".
      const dash = /^\s+[-–—]\s+/.exec(rest);
      if (dash && /\s/.test(c)) {
        const before = s.slice(start, i);
        const next = splitTopLevel(rest.slice(dash[0].length), (t, j) =>
          t[j] === ',' || t[j] === ';' || /^\s[-–—]\s/.test(t.slice(j)) ? 1 : 0,
        )[0].text;
        // Not before an acronym: "Ministry of ... - MPALSG" gives the name's abbreviation.
        if (hasHeadWord(before) && completeName(before) && startsSeparateName(next) === 'head')
          return dash[0].length;
      }
    }
    const before = i === 0 ? ' ' : s[i - 1];
    if (/[\s,;]/.test(before)) {
      const m = /^(?:\(?[a-z]\)|\d{1,2}[.)])\s+(?=\S)/i.exec(rest);
      if (m) return m[0].length;
      // In a line that is itself a dash-bulleted list, " - Name" starts the next item.
      if (dashList && /[-–—]/.test(c) && /^[-–—]\s*[\p{Lu}"“«]/u.test(rest)) return 1;
      const and = /^(?:and|&|y|et)\s+/.exec(rest);
      if (and && STRONG_HEAD.test(rest.slice(and[0].length))) return and[0].length;
      // "State Chancellery, Society Integration Foundation and the Ministry of Culture"; "... the Deputy Prime
      // Minister and Minister of the Interior and the Slovak National Center for Human Rights".
      const andThe = /^and\s+the\s+/.exec(rest);
      if (andThe && headFirst(rest.slice(andThe[0].length)) && completeName(s.slice(start, i)))
        return andThe[0].length;
    }
    if (c === ':' && /^:\s/.test(rest)) return 1;
    // Not before an initial: "Bonifacio Quirog, Ph. D.", "Teresita R. Ajoc".
    if (c === '.' && /^\.\s+[\p{Lu}"“«]/u.test(rest) && !/^\.\s+\p{Lu}\./u.test(rest)) {
      const head = s.slice(0, i);
      const word = /(\p{L}+)$/u.exec(head)?.[1] ?? '';
      if (/\)$/.test(head)) return 1;
      if (word.length > 1 && !ABBREVIATIONS.has(word.toLowerCase()) && !/\.\p{L}+$/u.test(head)) return 1;
    }
    if (c === ',') {
      // The last item of a list: "Governance Commission, the Legislature, LACC, LRC, and MOFA."
      const last = /^,\s*(?:and|&)\s+(?=(\S+?)\.?(?:$|[\s,;)]))/.exec(rest);
      if (last && isAcronym(last[1]) && !/\s\S/.test(rest.slice(last[0].length).replace(/[.\s]+$/, '')))
        return last[0].length;
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
  s = s
    .replace(ACTION_BY, '')
    .replace(/\s*\((?:by agreement|by consent|upon consent|if applicable|to be confirmed)\)\s*$/i, '')
    .replace(/,?\s*etc\.?$/i, '')
    .replace(/[\s.,;:\-–—]+$/, '')
    .trim();
  // A role written after the name, in lowercase and five words or more: "Procurement Monitoring Bureau
  // (PMB)(authority responsible for the commitment as a whole)"; not "(e-Government unit)".
  for (let prev = ''; prev !== s;) {
    prev = s;
    s = s.replace(/\s*\((?=\p{Ll})[^()\s]*(?:\s+[^()\s]+){4,}\s*\)$/u, '').trim();
  }
  return s;
}

/** The names an institution cell holds, plus the parts skipped because they are not names. */
export interface InstitutionSplit {
  names: string[];
  /** Prose ("Relevant partners will be involved") and category headings ("Civil Society"). */
  skipped: string[];
  /**
   * Units listed after an institution's name and a colon ("Ministry of Finance: Fiscal Policy and Planning
   * Dept, Public Investment Dept, Treasury Office"): parts of that institution, not institutions of their
   * own, so not in `names` (the cell, kept verbatim, still shows them).
   */
  parts: string[];
}

/**
 * Splits a "Lead Institution" or "Supporting Institution(s)" cell into institution names: on newlines,
 * ";", bullets (•, ●, ▪ and the Wingdings bullets pasted from Word), leading "-" or "–", enumerators
 * ("1.", "(a)"), sentence ends (not before an initial, nor inside "Ph.D."), a label's colon ("CSOs: ..."),
 * "and" before "Ministry"/"Department"/"Office", "and the" before another institution's name (not a
 * minister's: "Deputy Prime Minister and the Minister of Justice" is one office), ", and" before a last
 * acronym, a spaced dash between two names (not before an acronym: "... - MPALSG" is the name's
 * abbreviation), phrases joining institutions in a sentence ("in cooperation with the", "at the behest of
 * the", "(promoted by: ...)"), and on commas only when what follows reads as another name (a capitalized
 * head word such as "Ministry" first, one such as "Agency" last, or an acronym; never a lowercase word, a
 * conjunction or a degree such as "Ph.D."). So "Ministry of Economy, Finance and Industry" stays one name.
 * Nothing inside parentheses is split. An institution's name before a colon followed by units ("Ministry of
 * Finance: Fiscal Policy and Planning Dept, ...") is kept and the units go to `parts`: they are the
 * institution's departments, not institutions of their own. "Approval [of the law] by the" before a name is
 * removed, and a lowercase role of five words or more in parentheses after one. Missing-value markers and
 * "None" give no name; names lose list markers and trailing punctuation and are deduplicated by their
 * institution key. Prose, bare category headings and lowercase phrases after a joining phrase ("in
 * cooperation with all concerned parties") are returned as `skipped`, for a warning. Every name is written
 * in the cell, but for whitespace (line breaks become one space), NFC and HTML entities.
 */
export function splitInstitutions(cell: string | null | undefined): InstitutionSplit {
  if (cell == null) return { names: [], skipped: [], parts: [] };
  let split = splitCache.get(cell);
  if (!split) {
    split = splitCell(cell);
    if (splitCache.size >= SPLIT_CACHE_SIZE) splitCache.clear();
    splitCache.set(cell, split);
  }
  return { names: [...split.names], skipped: [...split.skipped], parts: [...split.parts] };
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
  const parts: string[] = [];
  let text = decodeEntities(cell)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00a0\t]/g, ' ')
    // "(PMB)(authority responsible ...)Central Finance and Contracts Agency": a name glued to a parenthesis.
    .replace(/\)(?=\p{Lu}\p{Ll})/gu, ')\n')
    // "Ministry of ... (promoted by: Directorate General of ...)": the institution in parentheses is another one.
    .replace(/\s*\((?:promoted|proposed|coordinated|led)\s+by:?\s*([^()]+)\)/gi, '; $1; ');
  if (isMissing(text) || NO_INSTITUTION.has(fold(text).replace(/[.()]+$/, '')))
    return { names, skipped, parts };
  for (const heading of TEMPLATE_HEADINGS) text = text.replace(heading, '\n\n');
  const seen = new Set<string>();
  for (const line of logicalLines(text)) {
    const dashList = /^[-–—]/.test(line.trim());
    /** After "Ministry of Finance:" and a unit's name: the pieces up to the next separator other than a comma. */
    let inParts = false;
    const pieces = splitTopLevel(line, separatorAt(dashList));
    for (const [k, piece] of pieces.entries()) {
      const name = normalizeName(cleanPart(piece.text));
      if (inParts) {
        if (/\p{L}{2}/u.test(name)) parts.push(name);
        inParts = piece.sep === ',';
        continue;
      }
      if (!/\p{L}{2}/u.test(name) || isMissing(name) || NO_INSTITUTION.has(fold(name))) continue;
      const words = name.split(' ');
      // "... in cooperation with all concerned parties", "... in cooperation with ministers": no name.
      if (k > 0 && JOINING_PHRASE.test(pieces[k - 1].sep) && /^\p{Ll}/u.test(name)) {
        skipped.push(name);
        continue;
      }
      if (piece.sep.startsWith(':')) {
        // An institution's own name (a singular head word) before units names its parts: "Ministry of
        // Finance: Fiscal Policy and Planning Dept, ...". Otherwise a short text before a colon is a label that
        // announces what follows ("Coordinador:", "Other stakeholders (ministries, agencies):").
        inParts =
          words.length <= 8 &&
          !LABEL_START.test(name) &&
          nameWords(name).some((w) => HEAD_WORDS.includes(w)) &&
          UNIT_WORDS.test(normalizeName(cleanPart(pieces[k + 1]?.text ?? '')));
        if (!inParts && (words.length <= 3 || LABEL_START.test(name))) continue; // a label
      }
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
  return { names, skipped, parts };
}
