import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { buildSchema, GraphQLError, type GraphQLSchema } from 'graphql';
import { coalescingExecutor, sharedAnswer, type CoalesceStats } from '@civic/gateway/coalesce';

/**
 * Identical queries in flight at once executed once (gateway/src/coalesce.ts), around an executor that stands for
 * Apollo's (the edge we do not own): it counts its executions and answers when told to.
 */
const schema = buildSchema('type Query { n(x: Int): Int }');
const otherSchema = buildSchema('type Query { n(x: Int): Int m: Int }');

interface Policy {
  restricted: unknown[];
  restrict(hint: unknown): void;
  policyIfCacheable(): unknown;
}

function requestContext(
  opts: {
    query?: string;
    operation?: 'query' | 'mutation';
    variables?: Record<string, unknown>;
    language?: string | null;
    operationName?: string | null;
    schema?: GraphQLSchema;
    cacheable?: { maxAge: number; scope?: string } | null;
  } = {},
) {
  const policy: Policy = {
    restricted: [],
    restrict(hint) {
      this.restricted.push(hint);
    },
    policyIfCacheable: () => opts.cacheable ?? null,
  };
  return {
    queryHash: `hash of ${opts.query ?? '{ n }'}`,
    operationName: opts.operationName ?? null,
    operation: { operation: opts.operation ?? 'query' },
    request: { variables: opts.variables },
    context: { acceptLanguage: opts.language ?? null },
    schema: opts.schema ?? schema,
    overallCachePolicy: policy,
  } as unknown as GatewayGraphQLRequestContext & { overallCachePolicy: Policy };
}

/** An executor that answers each execution when `release()` is called, with `answer(n)` for the n-th. */
function heldExecutor(answer: (n: number) => GatewayExecutionResult | Error) {
  const waiting: (() => void)[] = [];
  let executions = 0;
  const execute = (_rc: GatewayGraphQLRequestContext) => {
    const n = ++executions;
    return new Promise<GatewayExecutionResult>((resolve, reject) => {
      waiting.push(() => {
        const a = answer(n);
        if (a instanceof Error) reject(a);
        else resolve(a);
      });
    });
  };
  return {
    execute,
    get executions() {
      return executions;
    },
    release: () => waiting.splice(0).forEach((w) => w()),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('identical queries in flight at once', () => {
  test('are executed once; every request gets its own copy of the answer', async () => {
    const held = heldExecutor((n) => ({ data: { n, list: [{ a: 1 }] } }));
    const stats: CoalesceStats = { executed: 0, shared: 0 };
    const exec = coalescingExecutor(held.execute, stats);
    const contexts = Array.from({ length: 5 }, () => requestContext({ variables: { x: 1 }, language: 'fr' }));
    const answers = Promise.all(contexts.map((rc) => exec(rc)));
    await flush();
    held.release();
    const results = await answers;
    expect(held.executions).toBe(1);
    expect(stats).toEqual({ executed: 1, shared: 4 });
    for (const r of results) expect(r).toEqual({ data: { n: 1, list: [{ a: 1 }] } });
    // Apollo and its plugins write into an answer: no two requests may hold the same objects.
    expect(new Set(results.map((r) => r.data)).size).toBe(5);
    expect(new Set(results.map((r) => (r.data as { list: object[] }).list[0])).size).toBe(5);
    // The executing request is not marked; the others are (the response cache does not store theirs).
    expect(contexts.map((rc) => sharedAnswer(rc.context))).toEqual([false, true, true, true, true]);
  });

  test("a request that shares an answer takes the executing request's cache policy", async () => {
    const held = heldExecutor(() => ({ data: { n: 1 } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    const leader = requestContext({ cacheable: { maxAge: 30, scope: 'PUBLIC' } });
    const follower = requestContext();
    const uncacheable = heldExecutor(() => ({ data: { n: 2 } }));
    const exec2 = coalescingExecutor(uncacheable.execute, { executed: 0, shared: 0 });
    const [l2, f2] = [requestContext({ cacheable: null }), requestContext()];
    const all = Promise.all([exec(leader), exec(follower), exec2(l2), exec2(f2)]);
    await flush();
    held.release();
    uncacheable.release();
    await all;
    expect(follower.overallCachePolicy.restricted).toEqual([{ maxAge: 30, scope: 'PUBLIC' }]);
    expect(f2.overallCachePolicy.restricted).toEqual([{ maxAge: 0 }]);
    expect(leader.overallCachePolicy.restricted).toEqual([]);
  });

  test('different variables, language, operation name or supergraph are different executions', async () => {
    const held = heldExecutor((n) => ({ data: { n } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    const all = Promise.all([
      exec(requestContext({ variables: { x: 1 } })),
      exec(requestContext({ variables: { x: 2 } })),
      exec(requestContext({ variables: { x: 1 }, language: 'ar' })),
      exec(requestContext({ variables: { x: 1 }, operationName: 'Named' })),
      exec(requestContext({ variables: { x: 1 }, schema: otherSchema })),
      exec(requestContext({ variables: { x: 1 }, query: '{ n(x: 1) }' })),
    ]);
    await flush();
    held.release();
    expect((await all).map((r) => r.data)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
  });

  test('one after the other are separate executions (nothing is kept)', async () => {
    const held = heldExecutor((n) => ({ data: { n } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    for (const n of [1, 2]) {
      const p = exec(requestContext());
      await flush();
      held.release();
      expect((await p).data).toEqual({ n });
    }
  });

  test('mutations are never shared', async () => {
    const held = heldExecutor((n) => ({ data: { n } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    const all = Promise.all([
      exec(requestContext({ operation: 'mutation' })),
      exec(requestContext({ operation: 'mutation' })),
    ]);
    await flush();
    held.release();
    expect((await all).map((r) => r.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('an answer with errors is not shared: each waiting request executes on its own', async () => {
    const held = heldExecutor((n) =>
      n === 1 ? { data: { n: null }, errors: [new GraphQLError('subgraph down')] } : { data: { n } },
    );
    const stats: CoalesceStats = { executed: 0, shared: 0 };
    const exec = coalescingExecutor(held.execute, stats);
    const first = exec(requestContext());
    const second = exec(requestContext());
    await flush();
    held.release();
    expect((await first).errors).toHaveLength(1);
    await flush();
    held.release();
    expect(await second).toEqual({ data: { n: 2 } });
    expect(stats.shared).toBe(0);
  });

  test('a failed execution fails only its own request; the others execute on their own', async () => {
    const held = heldExecutor((n) => (n === 1 ? new Error('boom') : { data: { n } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    const first = exec(requestContext());
    const second = exec(requestContext());
    await flush();
    held.release();
    await expect(first).rejects.toThrow('boom');
    await flush();
    held.release();
    expect(await second).toEqual({ data: { n: 2 } });
  });

  test('an answer with extensions (a plugin reads and moves them) is not shared', async () => {
    const held = heldExecutor((n) => ({ data: { n }, extensions: { valueCompletion: [] } }));
    const exec = coalescingExecutor(held.execute, { executed: 0, shared: 0 });
    const first = exec(requestContext());
    const second = exec(requestContext());
    await flush();
    held.release();
    await first;
    await flush();
    held.release();
    expect((await second).data).toEqual({ n: 2 });
  });
});
