import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { ParseOptions, ValidationRule } from 'graphql';
import type { OperationLimits } from '../config';
import { limitsPlugin, type LimitsPluginOptions } from './plugin';
import { limitRules } from './rules';
import { withStringLimits } from './strings';

export { OperationLimitError, LIMIT_ERROR_CODES, type LimitErrorCode } from './errors';
export { operationCost } from './cost';
export {
  RateLimitedError,
  rateLimitHeaders,
  retryAfterOf,
  type RateLimitHook,
  type RateVerdict,
} from './ratelimit';

/**
 * Everything an Apollo server needs to apply these limits, each at the earliest step that can see it: the
 * parser's token limit (`parseOptions`), the validation rules (depth, aliases, directives, root fields,
 * expanded fields) and the plugin (string arguments, operation resolution, cost). Body size is Express's
 * (common/src/service.ts).
 */
export function operationLimitsFor<C extends BaseContext>(
  limits: OperationLimits,
  opts: LimitsPluginOptions<C> = {},
): { parseOptions: ParseOptions; validationRules: ValidationRule[]; plugin: ApolloServerPlugin<C> } {
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: limitRules(limits),
    // String arguments (MAX_STRING_LENGTH, NUL, lone surrogates) are checked first, so a refused one spends nothing.
    plugin: withStringLimits(limitsPlugin<C>(limits, opts), limits.maxStringLength),
  };
}
