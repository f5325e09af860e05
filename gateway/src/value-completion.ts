import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';

/**
 * The error code of a field the gateway had to null because a subgraph gave nothing for a non-null field
 * (typically an entity reference the owning subgraph does not know: a budget of an organization id that the
 * organizations subgraph has no record of).
 */
export const INCOMPLETE_RESULT = 'INCOMPLETE_RESULT';

/**
 * Apollo Gateway (2.x, since federation#2380) puts the errors of its own result shaping, "Cannot return null
 * for non-nullable field Organization.name.", under `extensions.valueCompletion` and not in `errors` when the
 * subgraphs reported no error. The client then gets a null, up to `{ data: null }`, with no error at all, which
 * GraphQL forbids and which leaves nobody able to say what went wrong: since the fields one subgraph adds to
 * another's entities are nullable (partial data by design, CHANGELOG.md), a nulled field usually leaves the rest
 * of the answer standing. This plugin moves them to `errors` (their messages name a type and a field: nothing
 * internal), with code INCOMPLETE_RESULT and their path, whether `data` came back null or not.
 */
export const valueCompletionPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        const completion = result.extensions?.valueCompletion;
        if (result.errors?.length || !Array.isArray(completion)) return;
        const errors: GraphQLFormattedError[] = completion.map((e: GraphQLFormattedError) => ({
          message: e.message,
          ...(e.path ? { path: e.path } : {}),
          extensions: { code: INCOMPLETE_RESULT },
        }));
        if (!errors.length) return;
        result.errors = errors;
        const { valueCompletion: _moved, ...rest } = result.extensions!;
        result.extensions = Object.keys(rest).length ? rest : undefined;
      },
    };
  },
};
