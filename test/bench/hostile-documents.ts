/**
 * Issue 10's hostile documents, as a hostile client sends them: what test/e2e/operation-limits.test.ts
 * asserts is refused (and with which code), and what test/bench/limits.bench.ts times.
 */
export interface HostileDocument {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The code it is refused with. */
  code: string;
}

/** `levels` nested `field { ... }` around `inner`. */
export const nest = (levels: string[], inner: string): string =>
  levels.reduceRight((body, level) => `${level} { ${body} }`, inner);

const deepLines = ['budgets(first: 100)', 'nodes'];
for (let i = 0; i < 5; i++) deepLines.push('lines(first: 100)', 'nodes', 'budget');

const fanOut = ['fragment F0 on Organization { id name }'];
for (let i = 1; i <= 15; i++) {
  fanOut.push(`fragment F${i} on Organization { ...F${i - 1} ... on Organization { ...F${i - 1} } }`);
}

/**
 * `_entities` as the gateway calls it, here straight to a subgraph, selecting about what the 27 MB
 * answer held for each of its 10,000 representations (names, identifiers, children, provenance).
 */
export const ENTITIES_QUERY = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Organization {
        id
        name
        names {
          ar
          fr
          en
          es
        }
        kind
        country
        identifiers {
          scheme
          value
        }
        children {
          id
          name
        }
        source {
          dataset
          url
        }
      }
    }
  }
`;

/** `count` representations of one organization. */
export const representations = (count: number) =>
  Array.from({ length: count }, () => ({ __typename: 'Organization', id: 'gov-tn' }));

/** Sent to the gateway. */
export const HOSTILE_DOCUMENTS = {
  deepLines: {
    name: 'budgets > lines > budget > lines ... (17 levels, first: 100)',
    query: `{ ${nest(deepLines, 'id')} }`,
    code: 'QUERY_TOO_DEEP',
  },
  nestedLines: {
    name: 'budgets > lines > budget > lines (first: 100 each)',
    query: `{ ${nest(['budgets(first: 100)', 'nodes', 'lines(first: 100)', 'nodes', 'budget', 'lines(first: 100)', 'nodes'], 'id')} }`,
    code: 'QUERY_TOO_COMPLEX',
  },
  pingPong: {
    name: 'children > parent > children > parent > children',
    query: `{ ${nest(['organization(id: "gov-tn")', 'children', 'parent', 'children', 'parent', 'children'], 'id name')} }`,
    code: 'QUERY_TOO_COMPLEX',
  },
  pingPongFragments: {
    name: 'the same ping-pong through fragments',
    query: /* GraphQL */ `
      query {
        organization(id: "gov-tn") {
          ...Down
        }
      }
      fragment Down on Organization {
        children {
          ...Up
        }
      }
      fragment Up on Organization {
        parent {
          children {
            parent {
              children {
                id
                name
              }
            }
          }
        }
      }
    `,
    code: 'QUERY_TOO_COMPLEX',
  },
  aliases40k: {
    name: '40,000 aliases',
    query: `{ ${Array.from({ length: 40_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
    code: 'TOO_MANY_TOKENS',
  },
  aliases31: {
    name: '31 aliases',
    query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: organization(id: "gov-tn") { id }`).join(' ')} }`,
    code: 'TOO_MANY_ALIASES',
  },
  fanOut: {
    name: '15 levels of fragment fan-out (2^15 fields)',
    query: `{ organization(id: "gov-tn") { ...F15 } } ${fanOut.join(' ')}`,
    code: 'TOO_MANY_FIELDS',
  },
  rootFields: {
    name: '21 root fields',
    query: `{ ${Array.from({ length: 21 }, (_, i) => `r${i}: organizations(first: 1) { totalCount }`).join(' ')} }`,
    code: 'TOO_MANY_ROOT_FIELDS',
  },
  directives: {
    name: '51 directives',
    query: `{ organizations(first: 1) { totalCount ${'@include(if: true) '.repeat(51)} } }`,
    code: 'TOO_MANY_DIRECTIVES',
  },
  parents: {
    name: 'organization > 10 x parent > id (depth 12)',
    query: `{ ${nest(['organization(id: "gov-tn")', ...Array<string>(10).fill('parent')], 'id')} }`,
    code: 'QUERY_TOO_DEEP',
  },
} satisfies Record<string, HostileDocument>;
