/*
 * Text folding: the one definition of what a searchable word is, shared by indexing, querying and
 * highlighting, so both backends see exactly the same terms (see index.ts for the whole design).
 */

/** Shorter words are not indexed (InnoDB `innodb_ft_min_token_size`, default 3). */
export const MIN_TERM_LENGTH = 3;
/** Longer words are not indexed (InnoDB `innodb_ft_max_token_size`, default 84). */
export const MAX_TERM_LENGTH = 84;

/**
 * InnoDB's default full-text stopwords (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD, the same on MySQL 8
 * and MariaDB 10/11). Those of 3 letters or more are dropped from indexed text and queries on both backends.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about an are as at be by com de en for from how i in is it la of on or that the this to und was what ' +
    'when where who will with www'
  ).split(' '),
);

/**
 * Letters that lowercasing and NFKD leave apart from their plain form, mapped to it. Arabic: tatweel goes,
 * alef wasla, alef maksura, teh marbuta and the Persian yeh and keheh take their plain form (أ إ آ ؤ ئ lose
 * their hamza with the other marks), digits become ASCII. Latin: the letters French, German and the Nordic
 * languages write without a decomposition.
 */
const FOLD_MAP: Readonly<Record<string, string>> = {
  '\u0640': '', // ـ tatweel
  '\u0671': '\u0627', // ٱ → ا
  '\u0649': '\u064a', // ى → ي
  '\u06cc': '\u064a', // ی → ي
  '\u0629': '\u0647', // ة → ه
  '\u06d5': '\u0647', // ە → ه
  '\u06a9': '\u0643', // ک → ك
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
  // Arabic-Indic and extended Arabic-Indic digits ٠-٩ ۰-۹
  ...Object.fromEntries(
    Array.from({ length: 10 }, (_, d) => [
      [String.fromCharCode(0x0660 + d), String(d)],
      [String.fromCharCode(0x06f0 + d), String(d)],
    ]).flat(),
  ),
};

const MARK = /\p{M}/u;
const TERM_CHAR = /[\p{L}\p{N}]/u;
const MODIFIER_LETTER = /\p{Lm}/u;
const foldCache = new Map<string, string>();

/**
 * Folds one character (code point) to zero or more characters, each a letter, a digit or a space.
 * Modifier letters (the ʿ and ʼ of transliterations, the tatweel) go like marks: "Saʿid" is "said".
 * Characters outside the Basic Multilingual Plane separate terms: InnoDB's parser does not count them as
 * word characters (MariaDB 10.11), so neither may SQLite.
 */
function foldChar(c: string): string {
  const cached = foldCache.get(c);
  if (cached !== undefined) return cached;
  let out = '';
  for (const d of c.normalize('NFKD').toLowerCase().normalize('NFKD')) {
    if (MARK.test(d) || MODIFIER_LETTER.test(d)) continue;
    for (const e of FOLD_MAP[d] ?? d) out += TERM_CHAR.test(e) && e.codePointAt(0)! <= 0xffff ? e : ' ';
  }
  foldCache.set(c, out);
  return out;
}

/** A folded word of a text, with where it comes from in the original (UTF-16 offsets, end exclusive). */
export interface FoldedToken {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits a text into folded words, each mapped back to its span in the original text. A character that
 * folds to nothing (a combining mark, a haraka, a tatweel) belongs to the character before it, so a span
 * covers the whole original word.
 */
export function foldTokens(original: string): FoldedToken[] {
  const tokens: FoldedToken[] = [];
  let current: FoldedToken | null = null;
  for (let i = 0; i < original.length;) {
    const c = String.fromCodePoint(original.codePointAt(i)!);
    const next = i + c.length;
    const folded = foldChar(c);
    if (!folded && current) current.end = next;
    for (const f of folded) {
      if (f === ' ') {
        if (current) tokens.push(current);
        current = null;
      } else if (current) {
        current.text += f;
        current.end = next;
      } else {
        current = { text: f, start: i, end: next };
      }
    }
    i = next;
  }
  if (current) tokens.push(current);
  return tokens;
}

/**
 * The folded form of a text, the same for indexing and for querying: compatibility decomposition (NFKD),
 * no combining marks (accents, Arabic harakat), lowercase, Arabic letter variants unified (أ إ آ ٱ → ا,
 * ى → ي, ة → ه, no tatweel), Arabic-Indic digits as ASCII, and every run of anything but letters and digits
 * as one space. `foldText("Béni Mellal-Khénifra") === "beni mellal khenifra"`.
 */
export function foldText(text: string): string {
  return foldTokens(text)
    .map((t) => t.text)
    .join(' ');
}

const ARABIC_ARTICLES = [
  '\u0648\u0627\u0644',
  '\u0628\u0627\u0644',
  '\u0643\u0627\u0644',
  '\u0641\u0627\u0644',
];
const ARABIC_ARTICLE = '\u0627\u0644'; // ال
const ARABIC_LI_ARTICLE = '\u0644\u0644'; // لل

const length = (s: string) => [...s].length;

/** Takes the Arabic article off a folded word when at least 3 letters stay. */
function stripArticle(word: string): string {
  for (const prefix of [...ARABIC_ARTICLES, ARABIC_ARTICLE, ARABIC_LI_ARTICLE]) {
    if (word.startsWith(prefix) && length(word) - prefix.length >= MIN_TERM_LENGTH) {
      return word.slice(prefix.length);
    }
  }
  return word;
}

/** The search term of a folded word, or null when the word is not indexed (too short or long, stopword). */
export function termOf(word: string): string | null {
  const term = stripArticle(word);
  const n = length(term);
  if (n < MIN_TERM_LENGTH || n > MAX_TERM_LENGTH || STOPWORDS.has(term)) return null;
  return term;
}

/**
 * The terms of a text that are indexed and searchable, in order: its folded words, without the Arabic
 * article, without words shorter than 3 or longer than 84 characters and without stopwords.
 */
export function indexTerms(text: string): string[] {
  const out: string[] = [];
  for (const t of foldTokens(text)) {
    const term = termOf(t.text);
    if (term) out.push(term);
  }
  return out;
}
