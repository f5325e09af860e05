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
  /**
   * The line's figure in each phase, in minor units (integer text), as `lineAmountSql` picks it: stored with
   * the amounts by summaries.ts so that ordering by amount reads an index. Absent on a line being written.
   */
  amountProposed?: string | null;
  amountApproved?: string | null;
  amountAdjusted?: string | null;
  amountExecuted?: string | null;
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
    amountProposed: { type: 'bigint', name: 'amount_proposed', nullable: true },
    amountApproved: { type: 'bigint', name: 'amount_approved', nullable: true },
    amountAdjusted: { type: 'bigint', name: 'amount_adjusted', nullable: true },
    amountExecuted: { type: 'bigint', name: 'amount_executed', nullable: true },
  },
  indices: [
    { name: 'IDX_budget_lines_budget_direction', columns: ['budgetId', 'direction'] },
    { name: 'IDX_budget_lines_code', columns: ['code'] },
    { name: 'IDX_budget_lines_amount_proposed', columns: ['amountProposed', 'id'] },
    { name: 'IDX_budget_lines_amount_approved', columns: ['amountApproved', 'id'] },
    { name: 'IDX_budget_lines_amount_adjusted', columns: ['amountAdjusted', 'id'] },
    { name: 'IDX_budget_lines_amount_executed', columns: ['amountExecuted', 'id'] },
    // `amount_<phase> DESC, id` (created by the SummaryAggregates migration: TypeORM cannot declare a
    // descending column): the largest figures first with ties by id ascending, read in index order. Declared
    // so the drift check leaves them.
    ...(['Proposed', 'Approved', 'Adjusted', 'Executed'] as const).map((p) => ({
      name: `IDX_budget_lines_amount_${p.toLowerCase()}_desc`,
      columns: [`amount${p}`, 'id'],
      synchronize: false,
    })),
  ],
});

/**
 * An amount of a budget line in one phase, as of a date. Stored as integer minor units of the budget's
 * currency (millimes for TND) so it is exact on MySQL and SQLite alike.
 */
export interface BudgetAmount {
  lineId: string;
  phase: BudgetPhase;
  /**
   * The measure of the source the figure was read from, as its package names it ('' for files with one measure
   * per phase, the Tunisian layouts): a package may give several measures in one phase (the EU's absorption
   * figures: Total Paid, Advance, Interim), each its own figure.
   */
  measure: string;
  /** ISO 8601 date the amount stands at (execution to date); '' for the phase's final amount. */
  asOf: string;
  amountMinor: string | number;
  /**
   * Where the figure itself came from, which is not always where its line did: Bou Arada's 2018 execution
   * figures come from the monthly file, the line (its label, its APPROVED figure) from the per-year file. The
   * record names the file, the line and the column (`Depence_mensuelle_2018_34012.csv:line 12 column
   * Budget_01_2018`); the dataset, URL and licence are the line's (one importer writes a line and its figures).
   */
  sourceRecord: string | null;
  /** The imported file, as the importer was given it (null for figures not imported: synthetic ones). */
  sourceFile: string | null;
  /** SHA-256 (hex) of that file. */
  sourceChecksum: string | null;
  /** The figure's line in that file (1 = the header of a CSV). */
  sourceLine: number | null;
  /** The column of that line holding the figure, as the file's header names it. */
  sourceColumn: string | null;
  /** When the figure was last written by an import, ISO 8601 UTC. */
  importedAt: string | null;
}

/** The source of a figure that no file gave (synthetic rows). */
export const NO_AMOUNT_SOURCE: Pick<
  BudgetAmount,
  'sourceRecord' | 'sourceFile' | 'sourceChecksum' | 'sourceLine' | 'sourceColumn' | 'importedAt'
> = {
  sourceRecord: null,
  sourceFile: null,
  sourceChecksum: null,
  sourceLine: null,
  sourceColumn: null,
  importedAt: null,
};

export const BudgetAmountEntity = new EntitySchema<BudgetAmount>({
  name: 'BudgetAmount',
  tableName: 'budget_amounts',
  columns: {
    lineId: { type: 'varchar', length: 191, name: 'line_id', primary: true },
    phase: { type: 'varchar', length: 16, primary: true },
    asOf: { type: 'varchar', length: 10, name: 'as_of', primary: true },
    measure: { type: 'varchar', length: 64, primary: true },
    amountMinor: { type: 'bigint', name: 'amount_minor' },
    sourceRecord: { type: 'varchar', length: 255, name: 'source_record', nullable: true },
    sourceFile: { type: 'varchar', length: 1024, name: 'source_file', nullable: true },
    sourceChecksum: { type: 'varchar', length: 64, name: 'source_checksum', nullable: true },
    sourceLine: { type: 'integer', name: 'source_line', nullable: true },
    sourceColumn: { type: 'varchar', length: 191, name: 'source_column', nullable: true },
    importedAt: { type: 'varchar', length: 24, name: 'imported_at', nullable: true },
  },
});

/**
 * The kinds of dimension a budget fact is classified by. FDP's `dimensionType` and `classificationType` map to
 * them (import/fiscal-data-package/dimensions.ts); a dimension the source types otherwise is OTHER.
 */
export const CLASSIFICATION_TYPES = [
  'ADMINISTRATIVE',
  'FUNCTIONAL',
  'ECONOMIC',
  'ACTIVITY',
  'GEOGRAPHY',
  'PAYEE',
  'PAYER',
  'PERIOD',
  'OTHER',
] as const;
export type ClassificationType = (typeof CLASSIFICATION_TYPES)[number];

/** How many levels of a code's hierarchy a fact stores as columns (level_1..level_3), for grouping. */
export const STORED_LEVELS = 3;

/**
 * A budget line as a fact: its value in one dimension of its source (a classification, the payee, the
 * geography, the period...). A line has one row per dimension its source declares; amounts stay on the line, so
 * a summary grouped by one dimension joins one row per line (`dimension` is part of the key) and stays exact.
 */
export interface BudgetLineDimension {
  lineId: string;
  /** The dimension's name in its source (`economic`, `administrative`, `payee`); unique within a line. */
  dimension: string;
  type: ClassificationType;
  /** 1 for the line's first dimension of its type (in the source's order): what grouping by a type reads. */
  isPrimary: number;
  /** The code scheme (`cofog`, `tn-municipal-budget-nomenclature`, `fdp:<package>:<dimension>`). */
  scheme: string;
  /** The most specific code: the last level's code (see `path`). */
  code: string;
  /** How many levels the code has (1 for a flat dimension). */
  depth: number;
  /** The code at level 1, 2, 3 (a code with fewer levels is its own deeper level). */
  level1: string;
  level2: string;
  level3: string;
  /** Every level's code from the top, each between U+001F separators: finds a line by any ancestor's code. */
  path: string;
  /** The dimension's position in the source's model (0-based). */
  position: number;
}

export const BudgetLineDimensionEntity = new EntitySchema<BudgetLineDimension>({
  name: 'BudgetLineDimension',
  tableName: 'budget_line_dimensions',
  columns: {
    lineId: { type: 'varchar', length: 191, name: 'line_id', primary: true },
    dimension: { type: 'varchar', length: 64, primary: true },
    type: { type: 'varchar', length: 16 },
    isPrimary: { type: 'integer', name: 'is_primary' },
    scheme: { type: 'varchar', length: 191 },
    code: { type: 'varchar', length: 191 },
    depth: { type: 'integer' },
    level1: { type: 'varchar', length: 191, name: 'level_1' },
    level2: { type: 'varchar', length: 191, name: 'level_2' },
    level3: { type: 'varchar', length: 191, name: 'level_3' },
    path: { type: 'varchar', length: 1024 },
    position: { type: 'integer' },
  },
  indices: [
    { name: 'IDX_budget_line_dimensions_scheme_code', columns: ['scheme', 'code'] },
    { name: 'IDX_budget_line_dimensions_type_level1', columns: ['type', 'level1'] },
    // How a summary joins a line to its primary row of a type (see the BudgetFacts migration).
    { name: 'IDX_budget_line_dimensions_line_type', columns: ['lineId', 'type', 'isPrimary'] },
  ],
});

/**
 * A code of a scheme, with its labels and parent: the dictionary the facts' codes are read against (one row
 * per code, however many lines carry it). Labels are in the languages their source names; `label` holds a
 * label whose language the source does not say (Macedonian, Albanian...), never guessed.
 */
export interface BudgetCode extends WithProvenance {
  scheme: string;
  code: string;
  type: ClassificationType;
  /** The code's level, 1 at the top. */
  depth: number;
  /** The code one level up; null at the top. */
  parentCode: string | null;
  labelAr: string | null;
  labelFr: string | null;
  labelEn: string | null;
  labelEs: string | null;
  /** A label in a language the source does not name. */
  label: string | null;
}

export const BudgetCodeEntity = new EntitySchema<BudgetCode>({
  name: 'BudgetCode',
  tableName: 'budget_codes',
  columns: {
    scheme: { type: 'varchar', length: 191, primary: true },
    code: { type: 'varchar', length: 191, primary: true },
    type: { type: 'varchar', length: 16 },
    depth: { type: 'integer' },
    parentCode: { type: 'varchar', length: 191, name: 'parent_code', nullable: true },
    ...localizedColumns('label', 1024),
    label: { type: 'varchar', length: 1024, nullable: true },
    ...provenanceColumns,
  },
});

/**
 * A link between a commitment (owned by the commitments subgraph, referred to by id) and a budget line, as a
 * `commitment-budget-links` file gives it: how much of the line funds the commitment (a share of it or an
 * amount, or neither when the file does not say), a note and the document the link rests on.
 */
export interface CommitmentBudgetLine extends WithProvenance {
  commitmentId: string;
  lineId: string;
  /** The share of the line that funds the commitment: an exact decimal fraction, 0 < share <= 1 ("0.25"). */
  share: string | null;
  /** The amount of the line that funds the commitment, in minor units of the line's budget currency. */
  amountMinor: string | number | null;
  note: string | null;
  /** The document the link rests on, as the file's `source` column gives it (a decision, a URL...). */
  reference: string | null;
}

export const CommitmentBudgetLineEntity = new EntitySchema<CommitmentBudgetLine>({
  name: 'CommitmentBudgetLine',
  tableName: 'commitment_budget_lines',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    lineId: { type: 'varchar', length: 191, name: 'line_id', primary: true },
    share: { type: 'varchar', length: 16, nullable: true },
    amountMinor: { type: 'bigint', name: 'amount_minor', nullable: true },
    note: { type: 'varchar', length: 1024, nullable: true },
    reference: { type: 'varchar', length: 1024, nullable: true },
    ...provenanceColumns,
  },
  indices: [{ name: 'IDX_commitment_budget_lines_line', columns: ['lineId'] }],
});
