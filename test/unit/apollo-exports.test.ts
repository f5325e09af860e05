import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// gateway/src/apollo-exports.ts replaces @apollo/federation-internals's exports (getters) with a plain copy before
// @apollo/gateway loads it. Jest has its own module registry (no require.cache), so this is checked in a Node
// process of its own, loading the gateway's server module as production does (tsx compiles it, as `npm start`).

const ROOT = join(__dirname, '..', '..');

const SCRIPT = `
require('./gateway/src/server.ts');
const { flattened } = require('./gateway/src/apollo-exports.ts');
const id = require.resolve('@apollo/federation-internals');
const flat = require(id);
// The package's index loaded again: getters over the same modules, as @apollo/gateway would have had them.
delete require.cache[id];
const original = require(id);
const keys = Object.keys(original);
const getters = keys.filter((k) => typeof Object.getOwnPropertyDescriptor(original, k).get === 'function');
// operationFromDocument is the one wrapped since (gateway/src/result-shaping.ts), around the same function.
const differ = keys.filter((k) => flat[k] !== original[k]);
const wrapped = flat.operationFromDocument[Symbol.for('civic-graph.memoizedOperationFromDocument')] === original.operationFromDocument;
const accessors = Object.keys(flat).filter((k) => !('value' in Object.getOwnPropertyDescriptor(flat, k)));
const loadedGateway = Object.keys(require.cache).filter((k) => k.includes('/@apollo/gateway/')).length;
console.log(JSON.stringify({
  flattened, replaced: flat !== original, esModule: flat.__esModule, keys: keys.length, getters: getters.length,
  copied: Object.keys(flat).length, differ, wrapped, accessors, loadedGateway: loadedGateway > 0,
}));
`;

describe("@apollo/federation-internals's exports, read as plain properties by the gateway", () => {
  it('are replaced before @apollo/gateway loads, by a copy holding the same values', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(r).toEqual({
      flattened: { applied: true, gatewayLoadedBefore: false },
      replaced: true,
      esModule: true,
      keys: expect.any(Number),
      getters: r.keys,
      copied: r.keys,
      differ: ['operationFromDocument'],
      wrapped: true,
      accessors: [],
      loadedGateway: true,
    });
    // The package's index as this was written for: its names, each a getter.
    expect(r.keys).toBeGreaterThan(200);
  });
});

// gateway/src/result-shaping.ts puts our result shaping in place of @apollo/gateway's computeResponse and keeps the
// operations executeQueryPlan builds; under Jest only the first is possible, so both are checked here, as
// production loads them.
const SHAPING = `
require('./gateway/src/server.ts');
const { shapeResponse } = require('./gateway/src/result-shaping.ts');
const shaping = require('@apollo/gateway/dist/resultShaping');
const internals = require('@apollo/federation-internals');
const { parse, Kind } = require('graphql');
const schema = internals.buildSchema('type Query { a: String b: Int }');
const [op] = parse('query { a b }').definitions;
// As executeQueryPlan calls it for every request: a new document around the same operation node.
const build = () => internals.operationFromDocument(schema, { kind: Kind.DOCUMENT, definitions: [op] }, { validate: false });
const first = build();
console.log(JSON.stringify({
  ours: shaping.computeResponse === shapeResponse,
  kept: build() === first,
  shaped: shaping.computeResponse({ operation: first, input: { b: 2, a: 'x', c: 3 }, introspectionHandling: () => null }).data,
}));
`;

describe("the gateway's result shaping (RESULT_SHAPING)", () => {
  const run = (env: Record<string, string>) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', SHAPING], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    });
    return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
  };

  it('is ours by default, and keeps the operations executeQueryPlan builds', () => {
    expect(run({})).toEqual({ ours: true, kept: true, shaped: { a: 'x', b: 2 } });
  });

  it("is Apollo's with RESULT_SHAPING=apollo", () => {
    expect(run({ RESULT_SHAPING: 'apollo' })).toEqual({ ours: false, kept: false, shaped: { a: 'x', b: 2 } });
  });
});
