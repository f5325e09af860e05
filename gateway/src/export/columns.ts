import {
  Kind,
  getNamedType,
  isCompositeType,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { ExportError } from './errors';

/** The named fragments of a document, by name. */
export type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;

/** One CSV column: a leaf of the node's selection, by its path of response keys (aliases where given). */
export interface Column {
  /** The path joined with dots: `names.ar`, `source.dataset`, `identifiers.scheme`. */
  name: string;
  path: readonly string[];
  /**
   * The field holds a number: its type is Int or Float, or it is one of {@link DECIMAL_STRING_FIELDS}. A CSV
   * cell of a numeric column is written as it is (`-12.500` stays a negative amount); any other cell is text,
   * and text that a spreadsheet would run as a formula is neutralised (see `neutraliseFormula` in writers.ts).
   */
  numeric?: boolean;
}

/**
 * Fields typed `String` in the schema that hold an exact decimal number (so that no float ever rounds them):
 * numbers for a spreadsheet, written as they are. By schema coordinate, `Type.field`.
 */
export const DECIMAL_STRING_FIELDS: ReadonlySet<string> = new Set([
  'Money.amount',
  'CommitmentBudgetLink.share',
]);

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
  // A fragment spread twice in one selection set adds the same fields twice, which merge into the same ones:
  // each is expanded once, so a fragment fanned out into thousands of spreads costs its size, not their number.
  const expanded = new Set<string>();
  const visit = (list: readonly SelectionNode[]) => {
    for (const s of list) {
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        const entry = out.get(key) ?? { name: s.name.value, selections: null };
        if (s.selectionSet) entry.selections = [...(entry.selections ?? []), ...s.selectionSet.selections];
        out.set(key, entry);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet.selections);
      } else {
        const name = s.name.value;
        const fragment = fragments.get(name);
        // An unknown or cyclic spread is a validation error, reported as such before any column is derived.
        if (fragment && !expanded.has(name)) {
          expanded.add(name);
          visit(fragment.selectionSet.selections);
        }
      }
    }
  };
  visit(selections);
  return out;
}

/** How {@link columnsOf} types and bounds the columns. */
export interface ColumnOptions {
  /** The API schema and the node's type, to tell numeric columns from text; without them every column is text. */
  schema?: GraphQLSchema;
  type?: GraphQLCompositeType;
  /** The most columns an export may have (EXPORT_MAX_COLUMNS): more is an {@link ExportError} (400). */
  maxColumns?: number;
}

/** Selections, and the type they are selected on (none when the schema does not know it). */
interface Scope {
  selections: readonly SelectionNode[];
  type: GraphQLCompositeType | undefined;
}

/**
 * The columns of an export, from the query alone (never from the data): every leaf of the node's selection
 * set, depth first, in the order the fields are written. So every page, and an empty result, has the same
 * header, and a column's place does not depend on which rows happen to have a value.
 *
 * With `maxColumns`, a query selecting more (through aliases, fragments or both, e.g. a fragment fanned out
 * twelve levels deep: 4,096 columns from under 1 KB of query) is refused here, before any page is run; the
 * count stops past 16 times the limit, so a document built to select billions of columns costs no more to
 * refuse than one with a few thousand.
 */
export function columnsOf(
  selectionSet: SelectionSetNode,
  fragments: Fragments,
  opts: ColumnOptions = {},
): Column[] {
  const columns: Column[] = [];
  const max = opts.maxColumns ?? Infinity;
  const ceiling = max * 16;
  let count = 0;
  const walk = (scopes: readonly Scope[], prefix: readonly string[]) => {
    for (const [key, field] of collectTyped(scopes, fragments, opts.schema)) {
      const path = [...prefix, key];
      if (field.subs.length) {
        walk(field.subs, path);
      } else {
        count++;
        if (count <= max) columns.push({ name: path.join('.'), path, numeric: field.numeric });
      }
      if (count > ceiling) return;
    }
  };
  walk([{ selections: selectionSet.selections, type: opts.type }], []);
  if (count > max) {
    const measured = count > ceiling ? `over ${ceiling}` : String(count);
    throw new ExportError([
      {
        message:
          `This export would have ${measured} columns, more than the ${max} one export may have ` +
          '(EXPORT_MAX_COLUMNS; a column is a field without sub-fields, counted through aliases and fragments): ' +
          'select fewer fields',
        extensions: {
          code: 'EXPORT_TOO_WIDE',
          limit: max,
          ...(count > ceiling ? { measuredMoreThan: ceiling } : { measured: count }),
        },
      },
    ]);
  }
  return columns;
}

/**
 * {@link collectFields} over several selection sets at once (a key selected in several places), keeping the
 * type each field was selected on: a leaf is numeric when every place it is selected says so.
 */
function collectTyped(
  scopes: readonly Scope[],
  fragments: Fragments,
  schema: GraphQLSchema | undefined,
): Map<string, { numeric: boolean; subs: Scope[] }> {
  const out = new Map<string, { numeric: boolean; subs: Scope[] }>();
  const expanded = new Set<string>();
  const typeNamed = (name: string): GraphQLCompositeType | undefined => {
    const type = schema?.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  };
  const visit = (list: readonly SelectionNode[], type: GraphQLCompositeType | undefined) => {
    for (const s of list) {
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        const definition =
          type && 'getFields' in type
            ? (type.getFields()[s.name.value] as GraphQLField<unknown, unknown>)
            : undefined;
        const entry = out.get(key) ?? { numeric: true, subs: [] };
        entry.numeric &&= !!type && !!definition && isNumericField(type, definition);
        if (s.selectionSet) {
          const named = definition && getNamedType(definition.type);
          entry.subs.push({
            selections: s.selectionSet.selections,
            type: named && isCompositeType(named) ? named : undefined,
          });
        }
        out.set(key, entry);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet.selections, s.typeCondition ? typeNamed(s.typeCondition.name.value) : type);
      } else {
        const name = s.name.value;
        const fragment = fragments.get(name);
        if (fragment && !expanded.has(name)) {
          expanded.add(name);
          visit(fragment.selectionSet.selections, typeNamed(fragment.typeCondition.name.value));
        }
      }
    }
  };
  for (const scope of scopes) visit(scope.selections, scope.type);
  return out;
}

function isNumericField(type: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): boolean {
  const named = getNamedType(field.type).name;
  return named === 'Int' || named === 'Float' || DECIMAL_STRING_FIELDS.has(`${type.name}.${field.name}`);
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
