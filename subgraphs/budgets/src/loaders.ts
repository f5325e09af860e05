import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { likePattern, LIKE_ESCAPE } from '../../../common/src/filters';
import { byIdLoader, groupLoader } from '../../../common/src/loaders';
import { childCountLoader, childPageLoader, type ChildPage, type Page } from '../../../common/src/pagination';
import {
  BudgetAmountEntity,
  BudgetEntity,
  BudgetLineEntity,
  CommitmentBudgetLineEntity,
  type Budget,
  type BudgetAmount,
  type BudgetDirection,
  type BudgetLine,
  type BudgetPhase,
  type CommitmentBudgetLine,
} from './entities/Budget';

/** The filter of Budget.lines, normalized so equal filters batch together. */
export interface LineFilter {
  direction: BudgetDirection | null;
  codePrefix: string | null;
}

const linesOfBudget = (f: LineFilter) => {
  let sql = 'SELECT id AS child_id, budget_id AS parent_id FROM budget_lines WHERE 1 = 1';
  const params: unknown[] = [];
  if (f.direction) {
    sql += ' AND direction = ?';
    params.push(f.direction);
  }
  if (f.codePrefix) {
    sql += ` AND code LIKE ? ESCAPE '${LIKE_ESCAPE}'`;
    params.push(likePattern(f.codePrefix, 'prefix'));
  }
  return { sql, params };
};

export interface TotalKey {
  budgetId: string;
  direction: BudgetDirection;
  phase: BudgetPhase;
}

/** Exact sums per budget in one statement per (direction, phase): the database adds integers, never floats. */
function totalsLoader(ds: DataSource): DataLoader<TotalKey, string | null, string> {
  // SUM over BIGINT is exact on both; casting to text keeps SQLite from handing back a lossy JS number.
  const asText = ds.options.type === 'better-sqlite3' ? 'TEXT' : 'CHAR';
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, TotalKey[]>();
      for (const k of keys) {
        const g = `${k.direction}/${k.phase}`;
        groups.set(g, [...(groups.get(g) ?? []), k]);
      }
      const result = new Map<string, string | null>();
      for (const group of groups.values()) {
        const { direction, phase } = group[0];
        const ids = [...new Set(group.map((k) => k.budgetId))];
        const rows: { budget_id: string; as_of: string; total: string }[] = await ds.query(
          `SELECT l.budget_id, a.as_of, CAST(SUM(a.amount_minor) AS ${asText}) AS total
           FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id
           WHERE l.budget_id IN (${ids.map(() => '?').join(', ')}) AND l.direction = ? AND a.phase = ?
           GROUP BY l.budget_id, a.as_of`,
          [...ids, direction, phase],
        );
        // Execution to date is cumulative: the total is the one at the latest date ('' = the phase's final figure).
        const latest = new Map<string, { asOf: string; total: string }>();
        for (const r of rows) {
          const cur = latest.get(r.budget_id);
          if (!cur || r.as_of > cur.asOf) latest.set(r.budget_id, { asOf: r.as_of, total: String(r.total) });
        }
        for (const id of ids) result.set(`${id}/${direction}/${phase}`, latest.get(id)?.total ?? null);
      }
      return keys.map((k) => result.get(`${k.budgetId}/${k.direction}/${k.phase}`) ?? null);
    },
    { name: 'budgetTotals', cacheKeyFn: (k) => `${k.budgetId}/${k.direction}/${k.phase}` },
  );
}

type PageKey<V> = { parentId: string; page: Page; variant: V };
type CountKey<V> = { parentId: string; variant: V };

/** The budgets subgraph's per-request loaders. */
export interface BudgetLoaders {
  budgetById: DataLoader<string, Budget | null>;
  lineById: DataLoader<string, BudgetLine | null>;
  budgetsByOrganization: DataLoader<string, Budget[]>;
  amountsByLine: DataLoader<string, BudgetAmount[]>;
  linksByLine: DataLoader<string, CommitmentBudgetLine[]>;
  linksByCommitment: DataLoader<string, CommitmentBudgetLine[]>;
  linePagesByBudget: DataLoader<PageKey<LineFilter>, ChildPage, string>;
  lineCountsByBudget: DataLoader<CountKey<LineFilter>, number, string>;
  totals: DataLoader<TotalKey, string | null, string>;
}

/** Made once per request: a loader's cache must never outlive its request. */
export function createBudgetLoaders(ds: DataSource): BudgetLoaders {
  return {
    budgetById: byIdLoader(ds.getRepository(BudgetEntity), 'budgetById'),
    lineById: byIdLoader(ds.getRepository(BudgetLineEntity), 'lineById'),
    budgetsByOrganization: groupLoader(
      ds.getRepository(BudgetEntity),
      'organizationId',
      'budgetsByOrganization',
      {
        fiscalYear: 'ASC',
        id: 'ASC',
      },
    ),
    amountsByLine: groupLoader(ds.getRepository(BudgetAmountEntity), 'lineId', 'amountsByLine', {
      phase: 'ASC',
      asOf: 'ASC',
    }),
    linksByLine: groupLoader(ds.getRepository(CommitmentBudgetLineEntity), 'lineId', 'linksByLine', {
      commitmentId: 'ASC',
    }),
    linksByCommitment: groupLoader(
      ds.getRepository(CommitmentBudgetLineEntity),
      'commitmentId',
      'linksByCommitment',
      {
        lineId: 'ASC',
      },
    ),
    linePagesByBudget: childPageLoader(ds, 'linePagesByBudget', linesOfBudget),
    lineCountsByBudget: childCountLoader(ds, 'lineCountsByBudget', linesOfBudget),
    totals: totalsLoader(ds),
  };
}
