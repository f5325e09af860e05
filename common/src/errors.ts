import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { LIMIT_ERROR_CODES, OperationLimitError } from './limits/errors';

/** A client error: bad argument or input. The message names what was wrong and what was expected. */
export function badInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argumentName: argument } : {}) },
  });
}

/**
 * The codes of the gateway's own errors about a subgraph call (gateway/src/subgraph-source.ts). Their messages
 * are written by the gateway, name the subgraph and never its address, so they reach the client as they are.
 */
export const SUBGRAPH_ERROR_CODES = [
  'SUBGRAPH_TIMEOUT',
  'SUBGRAPH_UNAVAILABLE',
  'SUBGRAPH_CIRCUIT_OPEN',
  'SUBGRAPH_RESPONSE_TOO_LARGE',
  'SUBGRAPH_BAD_RESPONSE',
] as const;

export type SubgraphErrorCode = (typeof SUBGRAPH_ERROR_CODES)[number];

const CLIENT_CODES = new Set<string>([
  ...SUBGRAPH_ERROR_CODES,
  ...LIMIT_ERROR_CODES,
  'BAD_USER_INPUT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  // The client went away (common/src/context.ts): not an internal error, and nobody reads the answer anyway.
  'CLIENT_CLOSED_REQUEST',
  // The request ran past REQUEST_DEADLINE_MS (common/src/context.ts); a read past DATABASE_STATEMENT_TIMEOUT_MS,
  // or the database out of reach (common/src/db.ts): messages written by us, naming nothing internal.
  'REQUEST_TIMEOUT',
  'STATEMENT_TIMEOUT',
  'DATABASE_UNAVAILABLE',
]);

/**
 * Apollo `formatError`: client errors pass through; anything else (a database error, a bug) becomes a
 * generic message with no stack, SQL or internal URL, and is logged on the server instead. A masked error
 * keeps `extensions.serviceName` (the gateway adds it to a subgraph's errors): the name of the part that
 * failed is no secret, and it is what a client needs to report it.
 */
export function maskInternalErrors(log: (err: unknown) => void) {
  return (raw: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const formatted = limitError(raw, error);
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const { stacktrace: _s, ...extensions } = formatted.extensions ?? {};
      void _s;
      return { ...formatted, extensions };
    }
    log(error);
    const serviceName = formatted.extensions?.serviceName;
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: {
        code: 'INTERNAL_SERVER_ERROR',
        ...(typeof serviceName === 'string' ? { serviceName } : {}),
      },
    };
  };
}

/** graphql's parser, stopped by `maxTokens`: "Document contains more that N tokens. Parsing aborted." (sic). */
const TOO_MANY_TOKENS = /Document contains more tha[nt] (\d+) tokens/;

/**
 * A refusal by an operation limit keeps its own code: Apollo gives every validation error the code
 * GRAPHQL_VALIDATION_FAILED and every parse error GRAPHQL_PARSE_FAILED, so the limit's code (and, for the
 * parser's token limit, the limit itself) is put back from the original error.
 */
function limitError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (original instanceof OperationLimitError) {
    return { ...formatted, extensions: { ...formatted.extensions, code: original.code } };
  }
  const tokens =
    formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && TOO_MANY_TOKENS.exec(formatted.message);
  if (!tokens) return formatted;
  const limit = Number(tokens[1]);
  return {
    message: `Tokens: more than the ${limit} allowed in one document (parsing stopped there)`,
    extensions: { code: 'TOO_MANY_TOKENS', limit, measured: limit + 1 },
  };
}
