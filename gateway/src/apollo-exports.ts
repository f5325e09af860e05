/*
 * @apollo/federation-internals (2.14) is compiled by TypeScript to CommonJS, and its index re-exports its ~300
 * names through TypeScript's `__createBinding` helper: each is a getter (`get: function () { return m[k]; }`,
 * not configurable) on the index's exports. Every call @apollo/gateway makes into it (`federation_internals_1.
 * isNonNullType(type)`, several per field of every answer it shapes) is then a getter call before the call
 * itself. A CPU profile of our gateway under the commitmentStats
 * dashboard query (199 groups, 18 KB) put 9.7 % of its CPU in that one getter (docs/performance.md).
 *
 * So, before @apollo/gateway and @apollo/query-planner first require it, the module's cached exports are replaced by
 * a plain object holding the same values: they then read them as ordinary data properties. The values are the
 * same objects (classes, functions, constants); a live binding would be lost, and there is none to lose: every
 * export of the package is assigned once, at the top level of its module, while the index loads (checked for
 * 2.14; `test/unit/apollo-exports.test.ts` checks that the copy holds the same values as the getters). Modules
 * that required the package before (@apollo/subgraph, in a process that also runs subgraphs) keep the original:
 * they behave the same, only slower. Under a module loader without `require.cache` (Jest's) nothing is done.
 */

const PACKAGE = '@apollo/federation-internals';

/** What {@link flattenFederationExports} did. */
export interface Flattened {
  /** The package's cached exports are now a plain object. */
  applied: boolean;
  /** @apollo/gateway was loaded before (it then kept the getters). */
  gatewayLoadedBefore: boolean;
}

/** Replaces the package's cached exports with a plain copy (once); see the comment above. */
export function flattenFederationExports(): Flattened {
  const cache = typeof require === 'function' ? require.cache : undefined;
  const gatewayLoadedBefore = Object.keys(cache ?? {}).some((k) => /[\\/]@apollo[\\/]gateway[\\/]/.test(k));
  const id = require.resolve(PACKAGE);
  // Not loaded yet: loaded now, so that its entry can be replaced before anyone else requires it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (!cache?.[id]) require(id);
  const loaded = cache?.[id];
  if (!loaded) return { applied: false, gatewayLoadedBefore };
  const original = loaded.exports as Record<string, unknown>;
  if (flat.has(original)) return { applied: true, gatewayLoadedBefore };
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(original)) plain[key] = original[key];
  Object.defineProperty(plain, '__esModule', { value: true });
  flat.add(plain);
  loaded.exports = plain;
  return { applied: true, gatewayLoadedBefore };
}

/** The copies made, so that a second call changes nothing. */
const flat = new WeakSet<object>();

/** Done as this module is first imported: import it before anything that imports @apollo/gateway. */
export const flattened: Flattened = flattenFederationExports();
