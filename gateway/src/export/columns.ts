import { Kind, type FragmentDefinitionNode, type SelectionNode, type SelectionSetNode } from 'graphql';

/** The named fragments of a document, by name. */
export type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;

/** One CSV column: a leaf of the node's selection, by its path of response keys (aliases where given). */
export interface Column {
  /** The path joined with dots: `names.ar`, `source.dataset`, `identifiers.scheme`. */
  name: string;
  path: readonly string[];
}

/** What separates the values of a list in one cell: `identifiers.scheme` = `tn-municipality; ogp-member-code`. */
export const LIST_SEPARATOR = '; ';

/**
 * The fields of a selection set by response key, in the order they first appear, with fragments (inline and
 * named) expanded in place and the sub-selections of a key selected twice merged: the order and merging
 * GraphQL itself uses to build a response.
 */
export function collectFields(
  selections: readonly SelectionNode[],
  fragments: Fragments,
): Map<string, { name: string; selections: SelectionNode[] | null }> {
  const out = new Map<string, { name: string; selections: SelectionNode[] | null }>();
  const visit = (list: readonly SelectionNode[], seen: ReadonlySet<string>) => {
    for (const s of list) {
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        const entry = out.get(key) ?? { name: s.name.value, selections: null };
        if (s.selectionSet) entry.selections = [...(entry.selections ?? []), ...s.selectionSet.selections];
        out.set(key, entry);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet.selections, seen);
      } else {
        const name = s.name.value;
        const fragment = fragments.get(name);
        // An unknown or cyclic spread is a validation error, reported as such before any column is derived.
        if (fragment && !seen.has(name)) visit(fragment.selectionSet.selections, new Set([...seen, name]));
      }
    }
  };
  visit(selections, new Set());
  return out;
}

/**
 * The columns of an export, from the query alone (never from the data): every leaf of the node's selection
 * set, depth first, in the order the fields are written. So every page, and an empty result, has the same
 * header, and a column's place does not depend on which rows happen to have a value.
 */
export function columnsOf(selectionSet: SelectionSetNode, fragments: Fragments): Column[] {
  const columns: Column[] = [];
  const walk = (selections: readonly SelectionNode[], prefix: readonly string[]) => {
    for (const [key, field] of collectFields(selections, fragments)) {
      const path = [...prefix, key];
      if (field.selections) walk(field.selections, path);
      else columns.push({ name: path.join('.'), path });
    }
  };
  walk(selectionSet.selections, []);
  return columns;
}

/**
 * One node as one CSV row, a cell per column. Nested objects are followed by key; a list (at any depth)
 * gives every element's value, joined with {@link LIST_SEPARATOR}, an element with no value as an empty
 * string so that the cells of sibling columns stay aligned (`amounts.phase` = `APPROVED; EXECUTED`,
 * `amounts.asOf` = `; 2018-01-31`). Null is an empty cell; text is kept exactly as GraphQL returned it.
 */
export function flattenNode(node: unknown, columns: readonly Column[]): string[] {
  return columns.map((column) => {
    const values: unknown[] = [];
    collect(node, column.path, 0, values);
    return values.map(formatValue).join(LIST_SEPARATOR);
  });
}

function collect(value: unknown, path: readonly string[], depth: number, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, path, depth, out);
  } else if (depth === path.length || value === null || value === undefined || typeof value !== 'object') {
    out.push(depth === path.length ? value : null);
  } else {
    collect((value as Record<string, unknown>)[path[depth]], path, depth + 1, out);
  }
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  // A custom scalar serialized as an object (JSON): keep all of it, as JSON.
  return JSON.stringify(value);
}
