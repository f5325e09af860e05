import { writeData } from '@civic/common/data-version';
import type { DataSource } from 'typeorm';
import {
  indexDocuments,
  rebuildSearchIndex,
  settleSearchStatistics,
  SEARCH_FTS_TABLE,
  SEARCH_TABLE,
} from '@civic/common/search';
import {
  insertAll,
  phrase,
  prng,
  SYNTHETIC_DATASET,
  syntheticBudgetId,
  syntheticOrganizationId,
  syntheticSizes,
  syntheticSource,
} from '@civic/formats/synthetic';
import {
  BudgetAmountEntity,
  BudgetEntity,
  BudgetLineDimensionEntity,
  BudgetLineEntity,
  NO_AMOUNT_SOURCE,
  type Budget,
  type BudgetAmount,
  type BudgetLine,
  type BudgetLineDimension,
} from './entities/Budget';
import { lineDimensionRows, type FactDimension } from './facts';
import { nomenclatureDimension } from './import/tn-municipal-budget/nomenclature';
import { isMysql } from '@civic/common/dialect';
import { LINE_INDEX, LINE_SEARCH_TYPE, lineDocuments } from './search';
import { lineFigures, refreshSummaries, refreshSummaryYears, SUMMARY_CELLS } from './summaries';

/** Budgets in dinars and dirhams: different decimals (3 and 2), never added together. */
const CURRENCIES = [
  { code: 'TND', digits: 3 },
  { code: 'MAD', digits: 2 },
];
const LINES_PER_BUDGET = 200;
const CHUNK_BUDGETS = 25;

/**
 * Replaces the synthetic budgets, lines and amounts (and only them) for this scale and seed, with the lines'
 * search index: 200 lines per budget with Tunisian-style codes (Titre.Article.Paragraphe.Sous-paragraphe),
 * labels in Arabic (and French for half), approved amounts and execution at two dates for most lines.
 */
export async function generateBudgets(ds: DataSource, scale: number, seed: number): Promise<number> {
  const sizes = syntheticSizes(scale);
  const r = prng(seed ^ 0x0b0b);
  await writeData(ds, 'budgets', async (m) => {
    await m.query(`DELETE FROM budget_amounts WHERE line_id LIKE 'syn-%'`);
    await m.query(`DELETE FROM budget_line_dimensions WHERE line_id LIKE 'syn-%'`);
    await m.getRepository(BudgetLineEntity).delete({ sourceDataset: SYNTHETIC_DATASET });
    await m.getRepository(BudgetEntity).delete({ sourceDataset: SYNTHETIC_DATASET });
    await m.query(`DELETE FROM ${SUMMARY_CELLS} WHERE budget_id LIKE 'syn-%'`);
    // The old synthetic lines' index goes in one statement (a previous run may have been at another scale,
    // so their ids are not known here).
    await m.query(`DELETE FROM ${SEARCH_TABLE} WHERE entity_type = ? AND entity_id LIKE 'syn-%'`, [
      LINE_SEARCH_TYPE,
    ]);
    // SQLite: indexDocuments first deletes each line's old rows from the FTS5 copy of search_documents, and
    // FTS5 finds them by scanning its whole table (ids are UNINDEXED columns): with the copy growing by
    // some 12,500 rows a chunk, the scans add up quadratically (a million lines: 207 s instead of 161 s).
    // These ids are fresh, there is nothing to delete: the copy is kept empty while generating and rebuilt
    // from search_documents once at the end (search.ts's rule for rows written behind its back), all in
    // this transaction.
    const emptyFts = async () => {
      if (!isMysql(ds)) await m.query(`DELETE FROM ${SEARCH_FTS_TABLE}`);
    };
    await emptyFts();
    for (let begin = 0; begin < sizes.budgets; begin += CHUNK_BUDGETS) {
      const budgets: Budget[] = [];
      const lines: BudgetLine[] = [];
      const amounts: BudgetAmount[] = [];
      const dimensions: BudgetLineDimension[] = [];
      for (let b = begin; b < Math.min(sizes.budgets, begin + CHUNK_BUDGETS); b++) {
        const id = syntheticBudgetId(b);
        const year = 2013 + (b % 12);
        const currency = CURRENCIES[b % CURRENCIES.length];
        budgets.push({
          id,
          organizationId: syntheticOrganizationId(Math.floor(b / 12) % sizes.organizations),
          fiscalYear: year,
          currency: currency.code,
          ...syntheticSource(scale, seed, `budget ${b}`),
        });
        for (let l = 0; l < LINES_PER_BUDGET; l++) {
          const direction = l % 4 === 3 ? 'REVENUE' : 'EXPENDITURE';
          const code = [
            r.int(1, 2),
            String(r.int(1, 99)).padStart(2, '0') + String(l).padStart(3, '0'),
            '0001',
            '000',
          ].join('.');
          const lineId = `${id}-${direction === 'REVENUE' ? 'REV' : 'EXP'}-${String(l).padStart(3, '0')}`;
          lines.push({
            id: lineId,
            budgetId: id,
            direction,
            code,
            labelAr: phrase(r, 'ar', 4),
            labelFr: r.chance(0.5) ? phrase(r, 'fr', 4) : null,
            labelEn: null,
            labelEs: null,
            classification: 'tn-municipal-budget-nomenclature',
            ...syntheticSource(scale, seed, `budget ${b} line ${l}`),
          });
          dimensions.push(
            ...lineDimensionRows(lineId, [nomenclatureDimension(code), syntheticFunction(b, l)]),
          );
          const approved =
            BigInt(r.int(0, 500_000)) * BigInt(10 ** currency.digits) +
            BigInt(r.int(0, 10 ** currency.digits - 1));
          amounts.push({
            lineId,
            phase: 'APPROVED',
            asOf: '',
            measure: '',
            amountMinor: approved.toString(),
            ...NO_AMOUNT_SOURCE,
          });
          if (r.chance(0.7)) {
            const jan = (approved * BigInt(r.int(0, 20))) / 100n;
            const feb = jan + (approved * BigInt(r.int(0, 20))) / 100n;
            amounts.push({
              lineId,
              phase: 'EXECUTED',
              asOf: `${year}-01-31`,
              measure: '',
              amountMinor: jan.toString(),
              ...NO_AMOUNT_SOURCE,
            });
            amounts.push({
              lineId,
              phase: 'EXECUTED',
              asOf: `${year}-02-28`,
              measure: '',
              amountMinor: feb.toString(),
              ...NO_AMOUNT_SOURCE,
            });
          }
        }
      }
      // Each line's stored figures (summaries.ts), from its amounts: all of them are here.
      const amountsOf = new Map<string, BudgetAmount[]>();
      for (const a of amounts) amountsOf.set(a.lineId, [...(amountsOf.get(a.lineId) ?? []), a]);
      for (const l of lines) {
        const f = lineFigures(amountsOf.get(l.id) ?? []);
        Object.assign(l, {
          amountProposed: f.PROPOSED,
          amountApproved: f.APPROVED,
          amountAdjusted: f.ADJUSTED,
          amountExecuted: f.EXECUTED,
        });
      }
      await insertAll(m, BudgetEntity, budgets);
      await insertAll(m, BudgetLineEntity, lines, 500);
      await insertAll(m, BudgetLineDimensionEntity, dimensions, 500);
      await insertAll(m, BudgetAmountEntity, amounts, 1000);
      await refreshSummaries(
        m,
        budgets.map((b) => b.id),
        false,
      );
      await indexDocuments(m, lineDocuments(lines), LINE_INDEX);
      await emptyFts();
    }
    // The yearly sums once, from every budget's cells (the synthetic budgets' years, and any the old ones had).
    await refreshSummaryYears(m, 'all');
    await rebuildSearchIndex(m);
  });
  await settleSearchStatistics(ds);
  return sizes.budgetLines;
}

/**
 * A synthetic line's functional classification: a COFOG division, group and class spread evenly over the lines
 * (derived from the budget and line numbers, not drawn, so the rest of the data stays what it was). Codes
 * only: COFOG's labels are not the synthetic data's to give.
 */
function syntheticFunction(budget: number, line: number): FactDimension {
  const division = String((line % 10) + 1).padStart(2, '0');
  const group = `${division}.${((budget + line) % 5) + 1}`;
  const cls = `${group}.${((budget * 7 + line) % 3) + 1}`;
  return {
    dimension: 'cofog',
    type: 'FUNCTIONAL',
    scheme: 'cofog',
    levels: [{ code: division }, { code: group }, { code: cls }],
  };
}
