import type { DataSource } from 'typeorm';
import { refreshLineFigures, refreshSummaries } from '@civic/subgraphs/budgets/src/summaries';

/**
 * What every budget writer does after writing lines or amounts (summaries.ts), for a test that writes them
 * through repositories instead: the lines' stored figures and their budgets' sums, so the figures a query
 * reads from them are the lines' own. Pass the budgets (and their lines) written, changed or deleted.
 */
export async function refreshStoredSums(
  ds: DataSource,
  budgetIds: readonly string[],
  lineIds: readonly string[] = [],
): Promise<void> {
  await ds.transaction(async (m) => {
    await refreshLineFigures(m, lineIds);
    await refreshSummaries(m, budgetIds);
  });
}
