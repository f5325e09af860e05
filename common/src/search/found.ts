import type { Connection } from '../pagination';
import { highlight, type SearchHighlight } from './highlight';
import type { ParsedSearch } from './query';

/*
 * How a node remembers the search that found it, so its `searchHighlights` field is computed from the row
 * without another statement. A searched list hands out COPIES of its rows, each carrying the search: a row
 * object may be shared within a request (a DataLoader's cache hands the same object to `budgetLine(id)` and to
 * a searched `Budget.lines`, or to two lists searched differently), and marking the shared object would show
 * one list's highlights in another. A copy belongs to its list only, and goes with the response.
 */

/** Where a copy keeps its search: a symbol, so it can never clash with a column or reach a client. */
const FOUND_BY = Symbol('foundBy');

type Found = { [FOUND_BY]?: ParsedSearch };

/**
 * The nodes of a searched list, each a copy that carries the search that found it; without a search, the
 * nodes as they are (no highlights).
 */
export function markFound<T extends object>(nodes: readonly T[], search: ParsedSearch | null): T[] {
  if (!search) return [...nodes];
  return nodes.map((n) => ({ ...n, [FOUND_BY]: search }));
}

/** The search a node was found by, or null for a node reached any other way. */
export function foundBy(node: object): ParsedSearch | null {
  return (node as Found)[FOUND_BY] ?? null;
}

/**
 * Why a node matched the search it was found by: the fields of `text` (the node's ORIGINAL searchable text,
 * in the order highlights should come) that hold a searched word. [] for a node not found by a search.
 */
export function foundHighlights(
  node: object,
  text: Readonly<Record<string, string | null | undefined>>,
): SearchHighlight[] {
  const search = foundBy(node);
  return search ? highlight(text, search) : [];
}

/** A connection whose nodes (and edges' nodes) are {@link markFound} copies carrying `search`. */
export function withFoundBy<T extends object>(
  connection: Connection<T>,
  search: ParsedSearch | null,
): Connection<T> {
  if (!search) return connection;
  const nodes = markFound(connection.nodes, search);
  return { ...connection, nodes, edges: connection.edges.map((e, i) => ({ ...e, node: nodes[i] })) };
}
