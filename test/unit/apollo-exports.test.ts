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
const differ = keys.filter((k) => flat[k] !== original[k]);
const accessors = Object.keys(flat).filter((k) => !('value' in Object.getOwnPropertyDescriptor(flat, k)));
const loadedGateway = Object.keys(require.cache).filter((k) => k.includes('/@apollo/gateway/')).length;
console.log(JSON.stringify({
  flattened, replaced: flat !== original, esModule: flat.__esModule, keys: keys.length, getters: getters.length,
  copied: Object.keys(flat).length, differ, accessors, loadedGateway: loadedGateway > 0,
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
      differ: [],
      accessors: [],
      loadedGateway: true,
    });
    // The package's index as this was written for: its names, each a getter.
    expect(r.keys).toBeGreaterThan(200);
  });
});
