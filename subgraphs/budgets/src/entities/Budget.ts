import { EntitySchema } from 'typeorm';
import { localizedColumns } from '@civic/common/localized';
import { provenanceColumns, type WithProvenance } from '@civic/common/provenance';

/** The budget of one organization for one fiscal year, in one currency. */
export interface Budget extends WithProvenance {
  id: string;
  /** Organization id (owned by the organizations subgraph). */
  organizationId: string;
  fiscalYear: number;
  /** ISO 4217 */
  currency: string;
}

export const BudgetEntity = new EntitySchema<Budget>({
  name: 'Budget',
  tableName: 'budgets',
  columns: {
    id: { type: 'varchar', length: 191, primary: true },
    organizationId: { type: 'varchar', length: 191, name: 'organization_id' },
    fiscalYear: { type: 'integer', name: 'fiscal_year' },
    currency: { type: 'varchar', length: 3 },
    ...provenanceColumns,
  },
  indices: [
    { name: 'IDX_budgets_org_year', columns: ['organizationId', 'fiscalYear'] },
    { name: 'IDX_budgets_fiscal_year', columns: ['fiscalYear'] },
  ],
});

export const BUDGET_DIRECTIONS = ['EXPENDITURE', 'REVENUE'] as const;
export type BudgetDirection = (typeof BUDGET_DIRECTIONS)[number];
export const BUDGET_PHASES = ['PROPOSED', 'APPROVED', 'ADJUSTED', 'EXECUTED'] as const;
export type BudgetPhase = (typeof BUDGET_PHASES)[number];

/** One line of a budget: a code in the budget's classification, its label, its amounts. */
export interface BudgetLine extends WithProvenance {
  id: string;
  budgetId: string;
  direction: BudgetDirection;
  /** The line's code in its classification, e.g. "1.01101.0001.000" (Titre.Article.Paragraphe.Sous-paragraphe). */
  code: string;
  labelAr: string | null;
  labelFr: string | null;
  labelEn: string | null;
  labelEs: string | null;
  /** The classification scheme of `code`, e.g. "tn-municipal-budget-nomenclature" or "cofog". */
  classification: string | null;
}

export const BudgetLineEntity = new EntitySchema<BudgetLine>({
  name: 'BudgetLine',
  tableName: 'budget_lines',
  columns: {
    id: { type: 'varchar', length: 191, primary: true },
    budgetId: { type: 'varchar', length: 191, name: 'budget_id' },
    direction: { type: 'varchar', length: 16 },
    code: { type: 'varchar', length: 64 },
    ...localizedColumns('label', 1024),
    classification: { type: 'varchar', length: 64, nullable: true },
    ...provenanceColumns,
  },
  indices: [
    { name: 'IDX_budget_lines_budget_direction', columns: ['budgetId', 'direction'] },
    { name: 'IDX_budget_lines_code', columns: ['code'] },
  ],
});

/**
 * An amount of a budget line in one phase, as of a date. Stored as integer minor units of the budget's
 * currency (millimes for TND) so it is exact on MySQL and SQLite alike.
 */
export interface BudgetAmount {
  lineId: string;
  phase: BudgetPhase;
  /** ISO 8601 date the amount stands at (execution to date); '' for the phase's final amount. */
  asOf: string;
  amountMinor: string | number;
  sourceRecord: string | null;
}

export const BudgetAmountEntity = new EntitySchema<BudgetAmount>({
  name: 'BudgetAmount',
  tableName: 'budget_amounts',
  columns: {
    lineId: { type: 'varchar', length: 191, name: 'line_id', primary: true },
    phase: { type: 'varchar', length: 16, primary: true },
    asOf: { type: 'varchar', length: 10, name: 'as_of', primary: true },
    amountMinor: { type: 'bigint', name: 'amount_minor' },
    sourceRecord: { type: 'varchar', length: 255, name: 'source_record', nullable: true },
  },
});

/** A link between a commitment (owned by the commitments subgraph, referred to by id) and a budget line. */
export interface CommitmentBudgetLine extends WithProvenance {
  commitmentId: string;
  lineId: string;
}

export const CommitmentBudgetLineEntity = new EntitySchema<CommitmentBudgetLine>({
  name: 'CommitmentBudgetLine',
  tableName: 'commitment_budget_lines',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    lineId: { type: 'varchar', length: 191, name: 'line_id', primary: true },
    ...provenanceColumns,
  },
  indices: [{ name: 'IDX_commitment_budget_lines_line', columns: ['lineId'] }],
});
