import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkRemoval,
  checkSubgraph,
  type CheckResult,
  type SubgraphSdl,
} from '@civic/gateway/registry/check';
import { coreSubgraphs } from '@civic/gateway/registry/registry';
import { loadConfig } from '@civic/subgraphs/catalog';

/**
 * The rules of `npm run subgraph:check`, on our real SDL files and the example partner's: what a partner may
 * add, and each way of taking, hiding or weakening what another subgraph owns, refused with a message that
 * names the coordinate and the owner. (The commands, the stores and the gateway: test/e2e/registry.test.ts.)
 */

const CORE = coreSubgraphs(loadConfig({}).subgraphUrls);
const PARTNER_SDL = readFileSync(
  join(__dirname, '..', '..', 'examples', 'partner-subgraph', 'schema.graphql'),
  'utf8',
);
const URL_ = 'http://127.0.0.1:4100/graphql';
const LINK = (...imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports.map((i) => (i.startsWith('{') ? i : `"${i}"`)).join(', ')}])\n`;

const candidate = (sdl: string, name = 'city-indicators'): SubgraphSdl => ({ name, url: URL_, sdl });
const check = (sdl: string, current: SubgraphSdl[] = CORE, allowBreaking = false) =>
  checkSubgraph({ current, candidate: candidate(sdl), allowBreaking });
/** The problems as kind and message, for whole comparisons. */
const problems = (r: CheckResult) => r.problems.map((p) => `${p.kind}: ${p.message}`);

test('the example partner may be published: its own types and root field, new fields on Organization by its key', () => {
  const r = check(PARTNER_SDL);
  expect(problems(r)).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.supergraphSdl).toContain('join__Graph');
  expect(r.supergraphSdl).toContain(`CITY_INDICATORS @join__graph(name: "city-indicators", url: "${URL_}")`);
});

test('a composition error is refused as @apollo/composition reports it, naming the subgraph and the type', () => {
  const r = check(`${LINK('@key')}type Query { cityRanking: [CityRank!]! }\n`);
  expect(r.ok).toBe(false);
  expect(r.problems).toEqual([
    expect.objectContaining({
      kind: 'composition',
      message: expect.stringMatching(/\[city-indicators\].*CityRank/),
    }),
  ]);
});

test('a key field of another type than ours does not compose, and says where', () => {
  const r = check(`${LINK('@key')}type Organization @key(fields: "id") { id: Int! population: Int }\n`);
  expect(r.ok).toBe(false);
  expect(r.problems.map((p) => p.kind)).toContain('composition');
  expect(r.problems.find((p) => p.kind === 'composition')?.message).toMatch(
    /Organization\.id.*city-indicators|city-indicators.*Organization\.id/s,
  );
});

test('breaking changes for clients, against the current supergraph, are refused (or warnings with allowBreaking)', () => {
  const v1 = `${LINK('@key')}type Query { cityRanking(year: Int): [String!]! }
type Organization @key(fields: "id") { id: ID! population: Int }\n`;
  const v2 = `${LINK('@key')}type Query { cityRanking(year: Int!): [String!]! }
type Organization @key(fields: "id") { id: ID! }\n`;
  const current = [...CORE, candidate(v1)];
  const r = check(v2, current);
  expect(r.ok).toBe(false);
  expect(problems(r).sort()).toEqual([
    'breaking: Breaking for clients: Organization.population was removed.',
    'breaking: Breaking for clients: Query.cityRanking arg year has changed type from Int to Int!.',
  ]);
  const allowed = check(v2, current, true);
  expect(allowed.ok).toBe(true);
  expect(allowed.warnings.map((w) => w.code).sort()).toEqual(['ARG_CHANGED_KIND', 'FIELD_REMOVED']);
});

test('a dangerous change is a warning, not a refusal', () => {
  const v1 = `${LINK('@key')}type Query { cityRanking: [String!]! }\n`;
  const v2 = `${LINK('@key')}type Query { cityRanking(year: Int): [String!]! }\n`;
  const r = check(v2, [...CORE, candidate(v1)]);
  expect(r.ok).toBe(true);
  expect(r.warnings).toEqual([
    expect.objectContaining({
      code: 'OPTIONAL_ARG_ADDED',
      message: expect.stringContaining('Query.cityRanking'),
    }),
  ]);
});

test('@override of our field is refused, naming the field and its owner', () => {
  const r = check(
    `${LINK('@key', '@override')}type Organization @key(fields: "id") { id: ID! name: String! @override(from: "organizations") }\n`,
  );
  expect(problems(r).filter((p) => p.startsWith('ownership'))).toEqual([
    'ownership: Organization.name uses @override(from: "organizations"): a partner subgraph may not take over a field that the organizations subgraph resolves. Add a field of your own instead.',
  ]);
});

test('our fields redefined on our entity (@shareable, @external) are refused with their owner', () => {
  const r =
    check(`${LINK('@key', '@shareable', '@external', '@requires')}type Organization @key(fields: "id") {
  id: ID!
  country: String @shareable
  kind: String @external
  label: String @requires(fields: "kind")
}\n`);
  expect(r.problems.filter((p) => p.kind === 'ownership').map((p) => p.message)).toEqual([
    'Organization.country belongs to the organizations subgraph (declared here @shareable): a partner may only add new fields to Organization, besides its key.',
    'Organization.kind belongs to the organizations subgraph (declared here @external): a partner may only add new fields to Organization, besides its key.',
    "Organization.label uses @requires: a partner field may not require fields of the organizations subgraph's Organization.",
  ]);
});

test('@provides of our fields, from a partner field returning our entity, is refused', () => {
  const r =
    check(`${LINK('@key', '@provides')}type Query { featuredCity: Organization @provides(fields: "name") }
type Organization @key(fields: "id") { id: ID! }\n`);
  expect(r.problems.filter((p) => p.kind === 'ownership')).toEqual([
    expect.objectContaining({
      coordinate: 'Query.featuredCity',
      owner: 'organizations',
      message: expect.stringContaining('a partner may not answer for another subgraph'),
    }),
  ]);
});

test('a type that shadows ours, a value type redefined, and a root field we own are refused, naming the owner', () => {
  const r = check(`${LINK('@key')}type Query { organization(id: ID!): String  cityRanking: [Money!]! }
type Money { amount: String! currency: String! }
enum Language { FR EN AR ES DE }\n`);
  expect(problems(r)).toEqual(
    expect.arrayContaining([
      'ownership: Query.organization is already a root field of the organizations subgraph: name yours differently.',
      'ownership: Money is a type of the budgets subgraph: a partner may not define or change it. Give your type a name of its own.',
      'ownership: Language is a type of the organizations subgraph (also defined by commitments, budgets): a partner may not define or change it. Give your type a name of its own.',
    ]),
  );
  expect(r.ok).toBe(false);
});

test('our entity by a field set that is not its key, or made @shareable, or given an interface, is refused', () => {
  const r = check(`${LINK('@key', '@shareable')}interface Ranked { rank: Int }
type Organization implements Ranked @key(fields: "country") @shareable { id: ID! country: String rank: Int }\n`);
  expect(r.problems.filter((p) => p.kind === 'ownership').map((p) => p.message)).toEqual([
    '@key(fields: "country") is not a key of Organization, an entity of the organizations subgraph; its keys: "id".',
    'Organization is an entity of the organizations subgraph: a partner may not mark it @shareable.',
    'Organization is an entity of the organizations subgraph: a partner may not make it implement Ranked.',
    'Organization.country belongs to the organizations subgraph: a partner may only add new fields to Organization, besides its key.',
  ]);
});

test('a type another partner owns is refused with that partner named', () => {
  const other = candidate(
    `${LINK('@key')}type Query { contracts: [Contract!]! }
type Contract @key(fields: "id") { id: ID! title: String! value: ContractValue }
type ContractValue { amount: String! currency: String! }\n`,
    'procurement',
  );
  const r = check(
    `${LINK('@key')}type Query { cityContracts: [Contract!]! }
type Contract { id: ID! }
type ContractValue { amount: String! }\n`,
    [...CORE, other],
  );
  expect(problems(r)).toEqual(
    expect.arrayContaining([
      'ownership: Contract is an entity of the procurement subgraph: extend it with @key(fields: "id") to add fields to it.',
      'ownership: ContractValue is a type of the procurement subgraph: a partner may not define or change it. Give your type a name of its own.',
    ]),
  );
});

test.each(['@authenticated', '@requiresScopes(scopes: [["read"]])', '@policy(policies: [["partner"]])'])(
  'the unenforceable directive %s is refused, even imported under another name',
  (directive) => {
    const name = directive.replace(/\(.*/, '');
    const direct = check(`${LINK('@key', name)}type Query { cityBudgetNotes: String ${directive} }\n`);
    const renamed = check(
      `${LINK('@key', `{ name: "${name}", as: "@guarded" }`)}type Query { cityBudgetNotes: String ${directive.replace(name, '@guarded')} }\n`,
    );
    for (const r of [direct, renamed]) {
      expect(r.ok).toBe(false);
      expect(r.problems).toEqual([
        expect.objectContaining({
          kind: 'directive',
          coordinate: 'Query.cityBudgetNotes',
          message: expect.stringContaining(`${name} on Query.cityBudgetNotes: the gateway does not enforce`),
        }),
      ]);
    }
  },
);

test('an SDL that does not parse is refused with its line and column', () => {
  expect(problems(check('type Query { cityRanking: [String!]! '))).toEqual([
    'schema: The SDL does not parse: Syntax Error: Expected Name, found <EOF>. (line 1, column 38)',
  ]);
});

test('removing a partner lists what disappears for clients; a removal the rest cannot compose without is refused', () => {
  const city = candidate(PARTNER_SDL);
  const removal = checkRemoval({ current: [...CORE, city], name: 'city-indicators' });
  expect(removal.ok).toBe(true);
  expect(removal.warnings.map((w) => w.message)).toEqual(
    expect.arrayContaining([
      'Breaking for clients: Organization.indicators was removed.',
      'Breaking for clients: Query.indicatorKinds was removed.',
    ]),
  );
  const procurement = candidate(
    `${LINK('@key')}type Query { contracts: [Contract!]! }\ntype Contract @key(fields: "id") { id: ID! title: String }\n`,
    'procurement',
  );
  // (Publishing this one would be refused, @external and @requires on another's entity: older rules or a
  // change of ours could still leave such a pair in the registry.)
  const dependent = candidate(
    `${LINK('@key', '@external', '@requires')}type Contract @key(fields: "id") {
  id: ID!
  title: String @external
  cityScore: Int @requires(fields: "title")
}\n`,
    'scores',
  );
  const refused = checkRemoval({ current: [...CORE, procurement, dependent], name: 'procurement' });
  expect(refused.ok).toBe(false);
  expect(refused.problems[0]).toEqual(expect.objectContaining({ kind: 'composition' }));
});
