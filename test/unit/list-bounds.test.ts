import {
  buildSchema,
  getNullableType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  parse,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { Supergraph } from '@apollo/federation-internals';
import { readSupergraph } from '@civic/gateway/supergraph';
import { subgraphTypeDefs } from '@civic/common/schema';
import { AGGREGATE_WEIGHT, FIELD_COSTS, operationCost } from '@civic/common/limits/cost';
import { MAX_PAGE_SIZE } from '@civic/common/pagination';
import { SUBGRAPH_NAMES } from '@civic/subgraphs/catalog';

/**
 * Issue 10, "every list bounded": the cost of an operation is computable only if every list it may return has
 * a known length. Each list field of the graph either pages (`first`, at most 100) or has a maximum that holds
 * by construction, stated in its description and given to the cost model (FIELD_COSTS). A new list without
 * either fails here, before it can land.
 */

/** Federation's own fields, answered by `buildSubgraphSchema` (bounded by the representations sent). */
const FEDERATION = new Set(['Query._entities', 'Query._service']);

/** How a list field is bounded, or null when it is not. */
function boundOf(type: GraphQLNamedType, field: GraphQLField<unknown, unknown>): string | null {
  const coordinate = `${type.name}.${field.name}`;
  if (FEDERATION.has(coordinate)) return 'federation';
  const first = field.args.find((a) => a.name === 'first');
  if (first) return 'first';
  // The rows of a page: as many as its connection's `first`.
  if (isObjectType(type) && 'pageInfo' in type.getFields() && ['nodes', 'edges'].includes(field.name))
    return 'page';
  if (FIELD_COSTS[coordinate]?.size !== undefined) return 'maximum';
  return null;
}

/** A description as one line: SDL wraps its text. */
const oneLine = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ');

/** Every list field of a schema's object and interface types, outside introspection. */
function listFields(schema: GraphQLSchema) {
  const out: { type: GraphQLNamedType; field: GraphQLField<unknown, unknown> }[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields()))
      if (isListType(getNullableType(field.type))) out.push({ type, field });
  }
  return out;
}

const api = Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
const subgraphs = SUBGRAPH_NAMES.map((name) => ({
  name,
  schema: buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name) }),
}));

describe('every list field is bounded', () => {
  test.each([
    ['the composed supergraph', api],
    ...subgraphs.map((s) => [`the ${s.name} subgraph`, s.schema] as [string, GraphQLSchema]),
  ])('%s: every list field pages or has a documented maximum', (_, schema) => {
    const lists = listFields(schema);
    expect(lists.length).toBeGreaterThan(5);
    const unbounded = lists
      .filter(({ type, field }) => boundOf(type, field) === null)
      .map(({ type, field }) => `${type.name}.${field.name}`);
    expect(unbounded).toEqual([]);
  });

  test('every `first` of a list defaults to a size from 0 to 100 and its description says it truncates', () => {
    const wrong: string[] = [];
    for (const { type, field } of listFields(api)) {
      const first = field.args.find((a) => a.name === 'first');
      if (!first) continue;
      const at = `${type.name}.${field.name}`;
      const d = first.defaultValue;
      if (typeof d !== 'number' || d < 0 || d > MAX_PAGE_SIZE) wrong.push(`${at}: default ${String(d)}`);
      const text = oneLine(field.description);
      if (!/`first`/.test(text)) wrong.push(`${at}: the description does not say the list is cut at first`);
      if (!/stable order|the top level first/.test(text)) wrong.push(`${at}: the description gives no order`);
    }
    expect(wrong).toEqual([]);
  });

  test('every maximum of FIELD_COSTS is stated in its field description, and names a field of the graph', () => {
    const wrong: string[] = [];
    for (const [coordinate, cost] of Object.entries(FIELD_COSTS)) {
      if (cost.size === undefined) continue;
      const [typeName, fieldName] = coordinate.split('.');
      const type = api.getType(typeName);
      const field =
        type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[fieldName] : null;
      if (!field) {
        wrong.push(`${coordinate}: no such field`);
        continue;
      }
      if (field.args.some((a) => a.name === 'first')) wrong.push(`${coordinate}: pages, needs no maximum`);
      // An aggregate's groups count once; its description says how many there can be.
      const stated = cost.weight === AGGREGATE_WEIGHT ? 'At most ' : `At most ${cost.size}`;
      if (!oneLine(field.description).includes(stated))
        wrong.push(`${coordinate}: "${stated}" not in its description`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('the cost of a plain list with first', () => {
  const schema = buildSchema(/* GraphQL */ `
    type Query {
      org: Org
      orgs(first: Int = 20): OrgConnection!
    }
    type Org {
      id: ID!
      children(first: Int = 100): [Org!]!
      tags(first: Int = 50): [String!]!
    }
    type OrgConnection {
      totalCount: Int!
      nodes: [Org!]!
      pageInfo: PageInfo!
    }
    type PageInfo {
      hasNextPage: Boolean!
    }
  `);
  const cost = (query: string, variables?: Record<string, unknown>) =>
    operationCost(schema, parse(query), variables, undefined);

  test('multiplies by first each item and what is selected in it, with no page weight', () => {
    expect(cost(`{ org { children(first: 3) { id } } }`)).toBe(1 + 3);
    expect(cost(`{ org { children(first: 3) { children(first: 2) { id } } } }`)).toBe(1 + 3 * (1 + 2));
    expect(cost(`query ($n: Int) { org { children(first: $n) { id } } }`, { n: 7 })).toBe(1 + 7);
  });

  test("takes the field's own default when first is absent or null, and caps it at 100", () => {
    expect(cost(`{ org { children { id } } }`)).toBe(1 + 100);
    expect(cost(`{ org { children(first: null) { id } } }`)).toBe(1 + 100);
    expect(cost(`{ org { children(first: 1000) { id } } }`)).toBe(1 + 100);
  });

  test('a list of scalars costs nothing, a page keeps its weight and does not count its nodes twice', () => {
    expect(cost(`{ org { tags(first: 10) } }`)).toBe(1);
    expect(cost(`{ orgs(first: 10) { totalCount nodes { id } } }`)).toBe(2 + 10);
    expect(cost(`{ orgs(first: 10) { nodes { children(first: 5) { id } } } }`)).toBe(2 + 10 * (1 + 5));
  });
});
