import { badInput } from '../errors';
import { indexTerms, MIN_TERM_LENGTH } from './fold';

/*
 * Reading a user's search text into the terms every backend searches. Runs no statement.
 */

/** A query longer than this is refused (a pasted title fits). */
export const MAX_QUERY_LENGTH = 300;
/** A query with more distinct terms than this is refused. */
export const MAX_QUERY_TERMS = 20;

/** Which words of a query also match longer words: the last one (search as you type), all, or none. */
export type PrefixMode = 'last' | 'all' | 'none';

export interface SearchOptions {
  /** The argument named in errors; default `filter.search`. */
  argument?: string;
  /** Default `last`: "Beni Mell" finds "Béni Mellal". */
  prefix?: PrefixMode;
}

/** A query as searched: its distinct terms, each matching a whole word or (prefix) the start of one. */
export interface ParsedSearch {
  terms: readonly { text: string; prefix: boolean }[];
}

/** The distinct terms of a query, the last occurrence of a repeated word kept. */
export function termsOf(query: string, prefix: PrefixMode): ParsedSearch {
  // The last occurrence of a repeated word counts, so the word being typed stays last.
  const words = indexTerms(query);
  const distinct = words.filter((w, i) => words.lastIndexOf(w) === i);
  return {
    terms: distinct.map((text, i) => ({
      text,
      prefix: prefix === 'all' || (prefix === 'last' && i === distinct.length - 1),
    })),
  };
}

/**
 * Reads a search query into the terms every backend searches (see {@link indexTerms}). Refuses, naming the
 * argument, a query too long, with too many words, or with no word that can be searched.
 */
export function parseSearch(query: string, options: SearchOptions = {}): ParsedSearch {
  const argument = options.argument ?? 'filter.search';
  if (query.length > MAX_QUERY_LENGTH) {
    throw badInput(
      `Argument "${argument}" is ${query.length} characters long; at most ${MAX_QUERY_LENGTH} are allowed`,
      argument,
    );
  }
  const parsed = termsOf(query, options.prefix ?? 'last');
  if (!parsed.terms.length) {
    throw badInput(
      `Argument "${argument}" has no word that can be searched: words need at least ${MIN_TERM_LENGTH} letters ` +
        `or digits, and very common English words (the, for, with, from, that, this…) are not indexed; got "${query}"`,
      argument,
    );
  }
  if (parsed.terms.length > MAX_QUERY_TERMS) {
    throw badInput(
      `Argument "${argument}" has ${parsed.terms.length} distinct words; at most ${MAX_QUERY_TERMS} are allowed`,
      argument,
    );
  }
  return parsed;
}
