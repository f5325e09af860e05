import type { DataSource } from 'typeorm';
import { DATASETS_DIR } from '../../../../common/src/sources';
import { upsertAll, type SeedReport } from '../../../../common/src/seed';
import { BudgetAmountEntity, BudgetEntity, BudgetLineEntity } from '../entities/Budget';
import { buildBouAradaBudget } from './tn-municipal-budget';

/** Loads the real datasets into the budgets tables, in one transaction. Safe to run again. */
export async function seedBudgets(ds: DataSource, dir = DATASETS_DIR): Promise<SeedReport[]> {
  const seeds = [buildBouAradaBudget(dir)];
  await ds.transaction(async (m) => {
    for (const s of seeds) {
      await upsertAll(m, BudgetEntity, s.budgets);
      await upsertAll(m, BudgetLineEntity, s.lines);
      await upsertAll(m, BudgetAmountEntity, s.amounts, 500);
    }
  });
  return seeds.map((s) => s.report);
}

export async function budgetsEmpty(ds: DataSource): Promise<boolean> {
  return (await ds.getRepository(BudgetEntity).count({ take: 1 })) === 0;
}
