import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { OperationLimits } from '../config';
import { operationCost } from './cost';
import { OperationLimitError } from './errors';

/** What {@link limitsPlugin} does besides refusing. */
export interface LimitsPluginOptions {
  /**
   * Add `extensions.cost: { requested, limit }` to every response whose cost was computed; without it only a
   * QUERY_TOO_COMPLEX refusal carries it.
   */
  reportCost?: boolean;
}

/**
 * The checks that need the request, not only the document, run once the operation is resolved and before
 * it is planned or executed (Apollo Server calls `didResolveOperation` after parsing and validation, and
 * only then hands the operation to the gateway's planner or to graphql's executor):
 * - an `operationName` the document does not have, or none for a document of several operations, is the
 *   client's error (400 OPERATION_RESOLUTION_FAILURE), not an internal one;
 * - the cost of the operation with its variables (common/src/limits/cost.ts) over `maxCost` is refused with
 *   QUERY_TOO_COMPLEX; variables that do not fit the operation are refused with BAD_USER_INPUT.
 */
export function limitsPlugin<C extends BaseContext>(
  limits: Pick<OperationLimits, 'maxCost'>,
  opts: LimitsPluginOptions = {},
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      let cost: number | undefined;
      let refused = false;
      return {
        async didResolveOperation({ operation, operationName, request, document, schema }) {
          if (!operation) {
            const message = request.operationName
              ? `The document has no operation named "${request.operationName}"`
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
        },
        async willSendResponse({ response }) {
          if (!(opts.reportCost || refused) || cost === undefined || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: { requested: cost, limit: limits.maxCost } };
        },
      };
    },
  };
}
