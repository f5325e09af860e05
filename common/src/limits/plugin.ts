import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { OperationLimits } from '../config';
import { operationCost } from './cost';
import { OperationLimitError } from './errors';
import { RateLimitedError, rateLimitHeaders, type RateLimitHook, type RateVerdict } from './ratelimit';

/** What {@link limitsPlugin} does besides refusing. */
export interface LimitsPluginOptions<C = BaseContext> {
  /**
   * Add `extensions.cost: { requested, limit }` to every response whose cost was computed (with `remaining`, the
   * client's budget left this minute, when there is a `rateLimit`); without it only a refusal carries it.
   */
  reportCost?: boolean;
  /**
   * Spend each operation's cost from its client's budget (the gateway's rate limit): an operation over what is
   * left is refused with 429 RATE_LIMITED before it runs, and every response carries the RateLimit headers.
   */
  rateLimit?: RateLimitHook<C>;
}

/**
 * The checks that need the request, not only the document, run once the operation is resolved and before
 * it is planned or executed (Apollo Server calls `didResolveOperation` after parsing and validation, and
 * only then hands the operation to the gateway's planner or to graphql's executor):
 * - an `operationName` the document does not have, or none for a document of several operations, is the
 *   client's error (400 OPERATION_RESOLUTION_FAILURE), not an internal one;
 * - the cost of the operation with its variables (common/src/limits/cost.ts) over `maxCost` is refused with
 *   QUERY_TOO_COMPLEX; variables that do not fit the operation are refused with BAD_USER_INPUT;
 * - with `rateLimit`, an operation within MAX_COST spends its cost (at least 1) from its client's budget, or is
 *   refused with 429 RATE_LIMITED when too little is left: nothing is planned or executed, no subgraph called.
 *   An operation refused before (for its cost or otherwise) spends nothing.
 */
export function limitsPlugin<C extends BaseContext>(
  limits: Pick<OperationLimits, 'maxCost'>,
  opts: LimitsPluginOptions<C> = {},
): ApolloServerPlugin<C> {
  const rateLimit = opts.rateLimit;
  return {
    async requestDidStart() {
      let cost: number | undefined;
      let refused = false;
      let verdict: RateVerdict | undefined;
      return {
        async didResolveOperation({ operation, operationName, request, document, schema, contextValue }) {
          if (!operation) {
            // The name is quoted back at most 100 characters long: a client's 300,000-character name is its own.
            const name = request.operationName ?? '';
            const shown = name.length > 100 ? `${name.slice(0, 100)}… (${name.length} characters)` : name;
            const message = request.operationName
              ? `The document has no operation named "${shown}"`
              : 'The document has several operations: say which to run with operationName';
            throw new GraphQLError(message, {
              extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
            });
          }
          try {
            cost = operationCost(schema, document, request.variables, operationName ?? undefined);
          } catch (err) {
            if (!(err instanceof GraphQLError)) throw err;
            throw new GraphQLError(err.message, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          if (cost > limits.maxCost) {
            refused = true;
            throw new OperationLimitError(
              'QUERY_TOO_COMPLEX',
              `Cost: ${cost}, more than the ${limits.maxCost} allowed (each list counts as many times as its first; see extensions.cost)`,
              limits.maxCost,
              cost,
            );
          }
          if (!rateLimit) return;
          // Even a free operation (introspection, __typename) spends 1: a flood of them is a flood of requests.
          verdict = await rateLimit.consume(contextValue, Math.max(cost, 1));
          if (!verdict.allowed) {
            refused = true;
            throw new RateLimitedError(cost, verdict);
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (rateLimit) {
            const standing = verdict ?? (await rateLimit.peek(contextValue));
            for (const [name, value] of Object.entries(rateLimitHeaders(standing))) {
              response.http.headers.set(name, value);
            }
          }
          if (!(opts.reportCost || refused) || cost === undefined || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          // What is left of the client's budget after this operation (or, refused for rate, what was left), as
          // GitHub's `rateLimit.remaining` and Shopify's `throttleStatus.currentlyAvailable` say it; the
          // RateLimit-Remaining header says the same.
          const remaining = verdict ? { remaining: verdict.remaining } : {};
          result.extensions = {
            ...result.extensions,
            cost: { requested: cost, limit: limits.maxCost, ...remaining },
          };
        },
      };
    },
  };
}
