import { badInput } from './errors';

/**
 * Checks an aggregate's `groupBy`: a dimension listed twice is refused (BAD_USER_INPUT naming `groupBy`), since
 * its groups would only repeat the same key. Every subgraph's totals (commitmentStats, budgetSummary) take
 * their dimensions through here.
 */
export function checkGroupBy<D extends string>(groupBy: readonly D[]): D[] {
  const seen = new Set<D>();
  for (const d of groupBy) {
    if (seen.has(d)) throw badInput(`Argument "groupBy" lists ${d} twice`, 'groupBy');
    seen.add(d);
  }
  return [...groupBy];
}
