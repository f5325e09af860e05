import type { DataSource } from 'typeorm';
import { indexDocuments, settleSearchStatistics } from '../../../../common/src/search';
import { DATASETS_DIR } from '../../../../common/src/sources';
import { upsertAll, type SeedReport } from '../../../../common/src/seed';
import { BudgetAmountEntity, BudgetEntity, BudgetLineEntity } from '../entities/Budget';
import { lineDocuments } from '../search';
import { buildBouAradaBudget } from './tn-municipal-budget';

/**
 * Loads the real datasets into the budgets tables and the lines' search index, in one transaction: the index
 * never disagrees with the lines. Safe to run again (a line's index entry is replaced, not added).
 */
export async function seedBudgets(ds: DataSource, dir = DATASETS_DIR): Promise<SeedReport[]> {
  const seeds = [buildBouAradaBudget(dir)];
  await ds.transaction(async (m) => {
    for (const s of seeds) {
      await upsertAll(m, BudgetEntity, s.budgets);
      await upsertAll(m, BudgetLineEntity, s.lines);
      await upsertAll(m, BudgetAmountEntity, s.amounts, 500);
      await indexDocuments(m, lineDocuments(s.lines));
    }
  });
  await settleSearchStatistics(ds);
  return seeds.map((s) => s.report);
}

export async function budgetsEmpty(ds: DataSource): Promise<boolean> {
  return (await ds.getRepository(BudgetEntity).count({ take: 1 })) === 0;
}
