import type { SeedReport } from '../../../../common/src/seed';
import type { Budget, BudgetAmount, BudgetLine } from '../entities/Budget';

/** What one dataset contributes to the budgets subgraph (built from files, written by the seed). */
export interface BudgetsSeed {
  budgets: Budget[];
  lines: BudgetLine[];
  amounts: BudgetAmount[];
  report: SeedReport;
}
