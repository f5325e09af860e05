/**
 * Identical queries in flight at the same moment, executed once (OPERATION_DEDUPLICATE). A dashboard on a wall of
 * screens, or a newsroom's page shared at the same minute, sends the same operation many times at once: each
 * used to be planned, fetched (the subgraph calls were already shared: subgraph-source.ts) and shaped on its own.
 * Here the first of them executes, and those arriving while it runs wait for its answer and get their own copy.
 * The same idea as the subgraph calls' deduplication, one level up; with the response cache on, it is what keeps
 * a burst of misses on one key (after an import invalidated it) from executing once per request.
 *
 * What makes two operations identical: the same document (Apollo's hash of its text), operation name, variables
 * and language, against the same supergraph. Nothing else of a request reaches a subgraph (the gateway forwards
 * its id, language and signature only: subgraph-source.ts FORWARDED_HEADERS), so nothing else changes the answer.
 * Every request still goes through everything before execution on its own: its limits, its cost charged to its
 * client's budget, its API key. Never a mutation. An answer with errors is not shared: each request waiting for
 * it executes on its own, and gets its own errors. A request that shared an answer is not written to the response
 * cache (the data versions it would be stored under were read after that answer's execution began), and its
 * cache policy is the one the executing request's subgraphs gave.
 */
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';

type Executor = (requestContext: GatewayGraphQLRequestContext) => Promise<GatewayExecutionResult>;

/** What an answer's cache policy was, as Apollo's CachePolicy gives it (null: not cacheable). */
type Policy = { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } | null;

interface Flight {
  promise: Promise<GatewayExecutionResult>;
  /** Requests waiting for this execution's answer. */
  waiting: number;
  /** The answer as JSON, taken when it arrived (before anything could write into it), when it may be shared. */
  shared?: string;
  policy?: Policy;
}

/** Executions and answers shared, for the gateway's metrics (`graphql_operations_shared_total`). */
export interface CoalesceStats {
  executed: number;
  shared: number;
}

/** The contexts of requests whose answer was shared from another's execution. */
const sharers = new WeakSet<object>();

/** Whether this request's answer came from another request's execution (the response cache does not store it). */
export const sharedAnswer = (context: object | undefined): boolean => !!context && sharers.has(context);

/**
 * Wraps the gateway's executor: identical queries in flight at once are executed once (see the module comment).
 * `stats` counts the executions it started and the answers it shared.
 */
export function coalescingExecutor(execute: Executor, stats: CoalesceStats): Executor {
  const bySchema = new WeakMap<GraphQLSchema, Map<string, Flight>>();
  return async (rc) => {
    const key = keyOf(rc);
    if (key === undefined) return execute(rc);
    let flights = bySchema.get(rc.schema);
    if (!flights) bySchema.set(rc.schema, (flights = new Map()));
    const running = flights.get(key);
    if (running) {
      running.waiting++;
      await running.promise.catch(() => undefined);
      if (running.shared === undefined) return execute(rc);
      sharers.add(rc.context);
      rc.overallCachePolicy?.restrict?.(running.policy ?? { maxAge: 0 });
      stats.shared++;
      return JSON.parse(running.shared) as GatewayExecutionResult;
    }
    const table = flights;
    const flight: Flight = { waiting: 0, promise: undefined as never };
    flight.promise = execute(rc).then(
      (result) => {
        // Runs before any waiter (and before the executing request itself) goes on: nothing has written into
        // the answer yet, and nobody joins this execution after this.
        if (table.get(key) === flight) table.delete(key);
        if (flight.waiting > 0 && shareable(result)) {
          flight.shared = JSON.stringify({ data: result.data });
          flight.policy = rc.overallCachePolicy?.policyIfCacheable?.() ?? null;
        }
        return result;
      },
      (err: unknown) => {
        if (table.get(key) === flight) table.delete(key);
        throw err;
      },
    );
    table.set(key, flight);
    stats.executed++;
    return flight.promise;
  };
}

/**
 * The identity of a query's answer, or undefined for what is never shared (mutations, subscriptions). It must hold
 * everything that changes the answer: today the subgraphs see nothing of the client but its language. Reads that
 * depend on who asks (roles scoped to a jurisdiction, once edits are authenticated) must add the role here, as
 * the subgraph calls' deduplication key must (subgraph-source.ts), or leave such operations unshared.
 */
function keyOf(rc: GatewayGraphQLRequestContext): string | undefined {
  if (rc.operation?.operation !== 'query') return undefined;
  const language = (rc.context as { acceptLanguage?: string | null } | undefined)?.acceptLanguage ?? '';
  const variables = rc.request.variables ? JSON.stringify(rc.request.variables) : '';
  return `${rc.queryHash}\u0000${rc.operationName ?? ''}\u0000${language}\u0000${variables}`;
}

/** Only a whole answer is shared: data, no errors, nothing in the extensions a plugin would move or read. */
function shareable(result: GatewayExecutionResult): boolean {
  return (
    result.data !== null &&
    result.data !== undefined &&
    !(result.errors && result.errors.length > 0) &&
    !(result.extensions && Object.keys(result.extensions).length > 0)
  );
}
