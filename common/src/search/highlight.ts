import { foldTokens, termOf } from './fold';
import { termsOf, type ParsedSearch, type SearchOptions } from './query';

/*
 * Why an entity matched, computed from its loaded text in the application: no statement, and the words
 * match exactly as the backends match them (same folding, same terms).
 */

/** Why an entity matched: a field and a short passage of its original text with the matching words marked. */
export interface SearchHighlight {
  field: string;
  snippet: string;
}

export interface HighlightOptions extends SearchOptions {
  /** About how many characters of the original text a snippet shows; default 80. */
  width?: number;
  /** Around each matching word; default `<mark>` and `</mark>`. */
  open?: string;
  close?: string;
  /**
   * Default true: the rest of the snippet is HTML-escaped, so the snippet is a safe HTML fragment. Guillemets
   * were not chosen as markers because French text uses them as quotation marks.
   */
  escapeHtml?: boolean;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

interface Hit {
  start: number;
  end: number;
  term: number;
}

/** The words of a text that match the search, as spans of the original text. */
function hitsIn(text: string, search: ParsedSearch): Hit[] {
  const hits: Hit[] = [];
  for (const token of foldTokens(text)) {
    const term = termOf(token.text);
    if (!term) continue;
    const i = search.terms.findIndex((t) => (t.prefix ? term.startsWith(t.text) : term === t.text));
    if (i < 0) continue;
    const last = hits[hits.length - 1];
    // One original character can fold to two words ("½"): never mark the same text twice.
    if (last && token.start < last.end) continue;
    hits.push({ start: token.start, end: token.end, term: i });
  }
  return hits;
}

/** The window of about `width` characters showing the most distinct terms, on word boundaries. */
function snippetWindow(text: string, hits: readonly Hit[], width: number): { start: number; end: number } {
  if (text.length <= width) return { start: 0, end: text.length };
  const lead = Math.floor(width / 4);
  const from = (h: Hit) => Math.max(0, h.start - lead);
  let anchor = hits[0];
  let most = 0;
  for (const h of hits) {
    const start = from(h);
    const count = new Set(hits.filter((o) => o.start >= start && o.end <= start + width).map((o) => o.term))
      .size;
    if (count > most) [anchor, most] = [h, count];
  }
  const rawStart = from(anchor);
  const rawEnd = Math.max(rawStart + width, anchor.end);
  const words = foldTokens(text);
  // Start at the first word not cut by the window (never after the matching word), end after the last word
  // that fits; only punctuation or spaces before or after is shown as is.
  let start = Math.min(words.find((w) => w.start >= rawStart)?.start ?? anchor.start, anchor.start);
  if (!words.some((w) => w.start < start)) start = 0;
  let end = anchor.end;
  for (const w of words) if (w.end <= rawEnd && w.end > end) end = w.end;
  if (!words.some((w) => w.end > end)) end = text.length;
  return { start, end };
}

/**
 * Why each field matched: for every field whose ORIGINAL text holds a word of the search, a passage of
 * about 80 characters around the matches with each matching word (the whole original word, accents and
 * harakat included) wrapped in `<mark>…</mark>`, the rest HTML-escaped, and `…` where the text was cut.
 * Fields come in the order of `original`; a field without a match is left out. Words match as the backends
 * match them (folded, same terms), so an entity found by {@link searchQuery} has at least one highlight.
 */
export function highlight(
  original: Readonly<Record<string, string | null | undefined>>,
  query: string | ParsedSearch,
  options: HighlightOptions = {},
): SearchHighlight[] {
  const search = typeof query === 'string' ? termsOf(query, options.prefix ?? 'last') : query;
  if (!search.terms.length) return [];
  const width = options.width ?? 80;
  const open = options.open ?? '<mark>';
  const close = options.close ?? '</mark>';
  const escape = options.escapeHtml === false ? (s: string) => s : escapeHtml;
  const out: SearchHighlight[] = [];
  for (const [field, text] of Object.entries(original)) {
    if (!text) continue;
    const hits = hitsIn(text, search);
    if (!hits.length) continue;
    const w = snippetWindow(text, hits, width);
    let snippet = '';
    let at = w.start;
    for (const h of hits) {
      if (h.start < w.start || h.end > w.end) continue;
      snippet += escape(text.slice(at, h.start)) + open + escape(text.slice(h.start, h.end)) + close;
      at = h.end;
    }
    snippet += escape(text.slice(at, w.end));
    snippet = snippet.replace(/\s+/g, ' ').trim();
    out.push({
      field,
      snippet: `${w.start > 0 ? '…' : ''}${snippet}${w.end < text.length ? '…' : ''}`,
    });
  }
  return out;
}
