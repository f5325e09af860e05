import {
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isObjectType,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * The cost model (GitHub's and Shopify's): what an operation may make the services do, computed from the
 * document and its variables before anything runs.
 *
 * - A scalar or enum field costs 0 (a list of them too); a field returning an object costs 1 plus what is
 *   selected in it.
 * - A paged list (a connection: a field with `first` returning a page) costs {@link CONNECTION_WEIGHT} plus
 *   `first` times what is selected in it; the `nodes` and `edges` of its page are not multiplied again.
 * - A plain list with `first` (`Organization.children`, `Commitment.budgetLines`...) costs `first` times
 *   (1 + what is selected in each item): it has no `totalCount` to count.
 * - `first` is the argument or its variable, else the field's default in the schema, at most
 *   {@link MAX_FIRST} (above that, or below 0, the subgraph refuses it).
 * - Every other list has a fixed maximum by construction, stated in its SDL description and given in
 *   {@link FIELD_COSTS}: it multiplies by it. A list of a partner's subgraph that is in neither multiplies by
 *   {@link DEFAULT_LIST_SIZE}; test/unit/list-bounds.test.ts keeps the graph's own lists out of that case.
 * - An aggregate's groups (`budgetSummary`, `commitmentStats`, `Commitment.funding`) come from one GROUP BY:
 *   the field weighs {@link AGGREGATE_WEIGHT} and its groups count once, whatever their number; the number
 *   is bounded by the subgraph (at most 10000 groups, beyond that the field is refused).
 * - `_entities` (a subgraph's entity fetch) multiplies by the number of representations it is sent.
 * - Introspection (`__schema`, `__type` and what is inside) costs 0: it is answered from memory.
 * - A `filter` with a `search` adds {@link SEARCH_WEIGHT}.
 * docs/protection.md gives the cost of the dashboards' queries this model was sized on.
 */

/** One field's own weight (replacing the default 1 for an object, {@link CONNECTION_WEIGHT} for a page) and, for a list without `first`, its maximum length. */
export interface FieldCost {
  weight?: number;
  size?: number;
}

/** A page: one query for its rows, one for its `totalCount`. */
export const CONNECTION_WEIGHT = 2;
/** An aggregate (GROUP BY or SUM over many rows): one query, but over every row the filter matches. */
export const AGGREGATE_WEIGHT = 20;
/** A full-text search: an index lookup and a relevance sort on top of the query it filters. */
export const SEARCH_WEIGHT = 20;
/** The length assumed of a partner's list whose maximum is not known: a default page. */
export const DEFAULT_LIST_SIZE = 20;
/** What `first` is taken to be when neither given nor defaulted by the schema, and at most (above it is refused). */
const DEFAULT_FIRST = 20;
export const MAX_FIRST = 100;

/** Groups from one GROUP BY, counted once (the subgraph refuses more than 10000 of them). */
const aggregate: FieldCost = { weight: AGGREGATE_WEIGHT, size: 1 };

/**
 * The weights and list maxima of the graph's fields, `Type.field`, where the defaults above do not say it. Each
 * `size` is the maximum the field's SDL description states ("At most N"), true by construction; a list that
 * grows with the data has `first` instead and is not listed. A field of a partner's subgraph is not listed:
 * the defaults apply to it.
 */
export const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  // Aggregates: one GROUP BY or SUM each; their groups come from that one query.
  'Query.budgetSummary': aggregate,
  'Query.commitmentStats': aggregate,
  'Organization.budgetSummary': aggregate,
  'Organization.commitmentStats': aggregate,
  // One entry per currency and phase of the linked lines, from one SUM.
  'Commitment.funding': aggregate,
  // One budget's lines summed, batched for every budget of the request: lighter than a summary.
  'Budget.total': { weight: 5 },
  // Fixed maxima, by construction.
  'BudgetGroup.keys': { size: 15 }, // one per dimension: 15 BudgetDimension values; `grouping` refused beyond 15
  'BudgetGroup.totals': { size: 4 }, // one per phase
  'CommitmentGroup.keys': { size: 11 }, // one per dimension: 11 CommitmentDimension values, each once
  'Commitment.ogpValues': { size: 4 }, // each of the 4 OGP values once
  'SourceAdjustment.reasons': { size: 7 }, // each of the 7 reasons once
  'Organization.searchHighlights': { size: 4 }, // one per language of the name
  'ActionPlan.searchHighlights': { size: 1 }, // the member's name
  'Commitment.searchHighlights': { size: 8 }, // title, 4 titles, shortTitle, description, theme
  'BudgetLine.searchHighlights': { size: 9 }, // 4 labels, classification labels in 4 languages and unnamed
};

const hasSearch = (args: Record<string, unknown>): boolean => {
  const filter = args.filter as { search?: unknown } | null | undefined;
  return typeof filter?.search === 'string' && filter.search.trim() !== '';
};

/** The estimator of {@link FIELD_COSTS} and the rules above, for graphql-query-complexity. */
export const civicEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // Introspection is answered from the schema in memory, and the explorer needs it whole.
  if (type.name.startsWith('__') || field.name.startsWith('__')) return 0;
  const named = getNamedType(field.type);
  const own = FIELD_COSTS[`${type.name}.${field.name}`] ?? {};
  const search = hasSearch(args) ? SEARCH_WEIGHT : 0;
  if (isLeafType(named)) return (own.weight ?? 0) + search;
  if (field.name === '_entities' && Array.isArray(args.representations)) {
    return args.representations.length * (1 + childComplexity);
  }
  const list = isListType(getNullableType(field.type));
  const firstArg = field.args.find((a) => a.name === 'first');
  if (firstArg) {
    const declared = typeof firstArg.defaultValue === 'number' ? firstArg.defaultValue : DEFAULT_FIRST;
    const asked = typeof args.first === 'number' ? args.first : declared;
    const first = Math.max(0, Math.min(MAX_FIRST, asked));
    // A plain list: each item is an object of its own. A page: its `nodes`/`edges` count the objects.
    if (list) return (own.weight ?? 0) + search + first * (1 + childComplexity);
    return (own.weight ?? CONNECTION_WEIGHT) + search + first * childComplexity;
  }
  if (list) {
    // The `nodes` and `edges` of a page: already multiplied by the page's `first`.
    const inPage = isObjectType(type) && 'pageInfo' in type.getFields();
    const size = own.size ?? (inPage ? 1 : DEFAULT_LIST_SIZE);
    return (own.weight ?? 0) + search + size * (1 + childComplexity);
  }
  return (own.weight ?? 1) + search + childComplexity;
};

/**
 * The cost of the operation `operationName` of `document` with these variables, by {@link civicEstimator}.
 * Throws the variables' coercion errors (a GraphQLError) when they do not fit the operation.
 *
 * Remembered per schema, document and variables: a dashboard sends the same operation again and again, Apollo
 * Server hands every repetition the same parsed document (its document store), and walking it with the
 * estimator is a validation pass's worth of work. At most {@link COSTS_PER_DOCUMENT} variable sets are kept per
 * document (then that document's are forgotten), none with variables over 2 KB of JSON, and a document's
 * entries go with the document.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number {
  let bySchema = costs.get(schema);
  if (!bySchema) costs.set(schema, (bySchema = new WeakMap()));
  let byVariables = bySchema.get(document);
  if (!byVariables) bySchema.set(document, (byVariables = new Map()));
  const key = `${operationName ?? ''}\n${variables ? JSON.stringify(variables) : ''}`;
  const known = byVariables.get(key);
  if (known !== undefined) return known;
  const cost = getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    ...(operationName ? { operationName } : {}),
    estimators: [civicEstimator],
  });
  // Long variables (a list of ids...) are costed every time rather than kept: the memory stays small.
  if (key.length > 2048) return cost;
  if (byVariables.size >= COSTS_PER_DOCUMENT) byVariables.clear();
  byVariables.set(key, cost);
  return cost;
}

/** How many variable sets' costs are kept per document (a document run with ever-new variables is bounded). */
export const COSTS_PER_DOCUMENT = 256;

const costs = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();
