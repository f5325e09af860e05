import { GraphQLError } from 'graphql';

/**
 * The codes of a refused operation, one per limit (docs/protection.md). Each error carries the limit and the
 * measured value in its extensions, so a client can see by how much it went over.
 */
export const LIMIT_ERROR_CODES = [
  'PAYLOAD_TOO_LARGE',
  'TOO_MANY_TOKENS',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'TOO_MANY_ROOT_FIELDS',
  'TOO_MANY_FIELDS',
  'QUERY_TOO_COMPLEX',
  // A client over its cost per minute (common/src/limits/ratelimit.ts, RateLimitedError): 429, not 400.
  'RATE_LIMITED',
] as const;

export type LimitErrorCode = (typeof LIMIT_ERROR_CODES)[number];

/**
 * An operation refused by a limit, with `extensions: { code, limit, measured }` and HTTP status 400. Apollo
 * rewrites the code of a validation error to GRAPHQL_VALIDATION_FAILED; common/src/errors.ts puts this one's
 * back (it finds this error as the original of Apollo's).
 */
export class OperationLimitError extends GraphQLError {
  readonly code: LimitErrorCode;
  constructor(code: LimitErrorCode, message: string, limit: number, measured: number | string) {
    super(message, { extensions: { code, limit, measured, http: { status: 400 } } });
    this.code = code;
  }
}
