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
 * - A scalar or enum field costs 0; a field returning an object costs 1 plus what is selected in it.
 * - A paged list (a field with `first`) costs {@link CONNECTION_WEIGHT} plus `first` (default 20, at most 100:
 *   above that the subgraph refuses it) times what is selected in it; the `nodes` and `edges` of its page are
 *   not multiplied again.
 * - A list without `first` multiplies by its known maximum from {@link FIELD_COSTS}, else by
 *   {@link DEFAULT_LIST_SIZE}.
 * - `_entities` (a subgraph's entity fetch) multiplies by the number of representations it is sent.
 * - Introspection (`__schema`, `__type` and what is inside) costs 0: it is answered from memory.
 * - Aggregates (summaries, stats, totals) weigh {@link AGGREGATE_WEIGHT}; a `filter` with a `search` adds
 *   {@link SEARCH_WEIGHT}.
 * docs/protection.md gives the cost of the dashboards' queries this model was sized on.
 */

/** One field's own weight (replacing the default 1 for an object, {@link CONNECTION_WEIGHT} for a page) and, for a list without `first`, its known maximum length. */
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
/** The length assumed of a list whose maximum is not known: a default page. */
export const DEFAULT_LIST_SIZE = 20;
/** What `first` is taken to be when omitted (the schema's default) and at most (above it is refused). */
const DEFAULT_FIRST = 20;
const MAX_FIRST = 100;

const aggregate: FieldCost = { weight: AGGREGATE_WEIGHT, size: 1 };

/**
 * The weights and list sizes of the graph's fields, `Type.field`, where the defaults above do not say it. A
 * field of a partner's subgraph is not listed: the defaults apply to it.
 */
export const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  // Aggregates: one GROUP BY or SUM each; their groups come from that one query.
  'Query.budgetSummary': aggregate,
  'Query.commitmentStats': aggregate,
  'Organization.budgetSummary': aggregate,
  'Organization.commitmentStats': aggregate,
  'Commitment.funding': aggregate,
  // One budget's lines summed, batched for every budget of the request: lighter than a summary.
  'Budget.total': { weight: 5 },
  // Lists without paging: a bound a little above the most the bundled data holds (in brackets), until every
  // list pages or has a fixed maximum (issue 10, "every list bounded").
  'Organization.children': { size: 100 }, // (58: a Moroccan province's communes)
  'Organization.budgets': { size: 10 }, // (6 fiscal years)
  'Organization.actionPlans': { size: 10 }, // (6)
  'Organization.identifiers': { size: 5 }, // (2)
  'Commitment.leadOrganizations': { size: 15 }, // (13)
  'Commitment.supportingOrganizations': { size: 40 }, // (33)
  'Commitment.budgetLines': { size: 10 },
  'Commitment.budgetLinks': { size: 10 },
  'BudgetLine.commitments': { size: 10 },
  'BudgetLine.classifications': { size: 10 }, // (1 to 3: one per dimension of the source)
  'BudgetLine.amounts': { size: 5 }, // (3: one per phase)
  'BudgetClassification.ancestors': { size: 5 }, // (4 levels of code)
  'BudgetGroup.keys': { size: 5 },
  'BudgetGroup.totals': { size: 5 },
  'CommitmentGroup.keys': { size: 5 },
  'Provenance.adjustments': { size: 5 },
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
  if (field.args.some((a) => a.name === 'first')) {
    const asked = typeof args.first === 'number' ? args.first : DEFAULT_FIRST;
    const first = Math.max(0, Math.min(MAX_FIRST, asked));
    return (own.weight ?? CONNECTION_WEIGHT) + search + first * childComplexity;
  }
  if (isListType(getNullableType(field.type))) {
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
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number {
  return getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    ...(operationName ? { operationName } : {}),
    estimators: [civicEstimator],
  });
}
