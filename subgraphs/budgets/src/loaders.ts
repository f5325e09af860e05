import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader, groupLoader, MAX_BATCH } from '@civic/common/loaders';
import {
  childCountLoader,
  childPageLoader,
  toPage,
  type ChildPage,
  type Connection,
  type Page,
  type PageArgs,
} from '@civic/common/pagination';
import {
  decodeRelevanceCursor,
  encodeRelevanceCursor,
  markFound,
  SEARCH_ALIAS,
  type RelevanceAfter,
} from '@civic/common/search';
import {
  BudgetAmountEntity,
  BudgetEntity,
  BudgetLineDimensionEntity,
  BudgetLineEntity,
  CommitmentBudgetLineEntity,
  type Budget,
  type BudgetAmount,
  type BudgetDirection,
  type BudgetLine,
  type BudgetLineDimension,
  type BudgetPhase,
  type CommitmentBudgetLine,
} from './entities/Budget';
import { codeLoader, type CodeEntry, type CodeRef } from './classifications';
import { lineConditions, NO_LINE_FILTER, positional, type AmountBounds, type LineFilter } from './list';
import { lineSearchSql } from './search';
import {
  aggregateLines,
  budgetTotals,
  fundingOf,
  MAX_GROUPS,
  summarize,
  tooManyGroups,
  type FundingRow,
  type GroupSpec,
  type Summary,
} from './aggregates';

/** The variant of a Budget.lines page: the filter, and its amount bounds in the budget's currency. */
export interface LinesVariant {
  filter: LineFilter;
  bounds: AmountBounds[];
}

const linesOfBudget =
  (ds: DataSource) =>
  ({ filter, bounds }: LinesVariant) => {
    const { sql, params } = lineConditions(ds, filter, bounds, 'l');
    const [query, values] = positional(
      ds,
      `SELECT l.id AS child_id, l.budget_id AS parent_id FROM budget_lines l${sql.length ? ` WHERE ${sql.join(' AND ')}` : ''}`,
      params,
    );
    return { sql: query, params: values };
  };

export interface TotalKey {
  budgetId: string;
  direction: BudgetDirection;
  phase: BudgetPhase;
}

/**
 * Budget.total for many budgets: one statement per direction, whatever the phases asked, through the
 * summary's own definition of a line's figure (aggregates.ts `budgetTotals`): the database adds integers.
 */
function totalsLoader(ds: DataSource): DataLoader<TotalKey, string | null, string> {
  const keyOf = (k: TotalKey) => `${k.budgetId}/${k.direction}/${k.phase}`;
  return new DataLoader(
    async (keys) => {
      const byDirection = new Map<BudgetDirection, Set<string>>();
      for (const k of keys)
        byDirection.set(k.direction, (byDirection.get(k.direction) ?? new Set()).add(k.budgetId));
      const result = new Map<string, string>();
      for (const [direction, budgets] of byDirection) {
        const ids = [...budgets];
        const totals = await budgetTotals(ds, ids, direction);
        ids.forEach((budgetId, i) => {
          for (const t of totals[i]) result.set(keyOf({ budgetId, direction, phase: t.phase }), t.minor);
        });
      }
      return keys.map((k) => result.get(keyOf(k)) ?? null);
    },
    { name: 'budgetTotals', maxBatchSize: MAX_BATCH, cacheKeyFn: keyOf },
  );
}

/** A page of one budget's lines found by a search, most relevant first: ids with their scores. */
export interface RelevancePage {
  lines: { id: string; score: number }[];
  hasNextPage: boolean;
}

/** Which page of which budget's searched lines: the budget, the page size and start, the filter. */
export interface RelevancePageKey {
  parentId: string;
  first: number;
  after: RelevanceAfter | null;
  variant: LinesVariant;
}

/**
 * Budget.lines with `filter.search` for many budgets: one statement per distinct (filter, first, after),
 * the search joined once, each budget's lines numbered by a window function in relevance order (score
 * descending, then id), the first `first + 1` kept.
 */
function relevancePagesLoader(ds: DataSource): DataLoader<RelevancePageKey, RelevancePage, string> {
  const groupOf = (k: RelevancePageKey) => JSON.stringify([k.variant, k.first, k.after]);
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, RelevancePageKey[]>();
      for (const k of keys) groups.set(groupOf(k), [...(groups.get(groupOf(k)) ?? []), k]);
      const result = new Map<string, RelevancePage>();
      for (const [g, group] of groups) {
        const { variant, first, after } = group[0];
        const search = lineSearchSql(ds, variant.filter.search!);
        const where = lineConditions(ds, variant.filter, variant.bounds, 'l', { searchJoined: true });
        where.sql.push('l.budget_id IN (:...lf_parents)');
        where.params.lf_parents = [...new Set(group.map((k) => k.parentId))];
        if (after) {
          where.sql.push(
            `(${SEARCH_ALIAS}.score < :lf_after_score OR (${SEARCH_ALIAS}.score = :lf_after_score AND l.id > :lf_after_id))`,
          );
          where.params.lf_after_score = after.score;
          where.params.lf_after_id = after.id;
        }
        where.params.lf_limit = first + 1;
        const [sql, params] = positional(
          ds,
          `SELECT w.child_id, w.parent_id, w.score FROM (
             SELECT l.id AS child_id, l.budget_id AS parent_id, ${SEARCH_ALIAS}.score AS score,
                    ROW_NUMBER() OVER (PARTITION BY l.budget_id ORDER BY ${SEARCH_ALIAS}.score DESC, l.id) AS rn
             FROM budget_lines l JOIN (${search.sql}) ${SEARCH_ALIAS} ON ${SEARCH_ALIAS}.entity_id = l.id
             WHERE ${where.sql.join(' AND ')}
           ) w WHERE w.rn <= :lf_limit ORDER BY w.parent_id, w.rn`,
          { ...search.parameters, ...where.params },
        );
        const rows: { child_id: string; parent_id: string; score: number | string }[] = await ds.query(
          sql,
          params,
        );
        const byParent = new Map<string, { id: string; score: number }[]>();
        for (const r of rows) {
          const lines = byParent.get(r.parent_id) ?? [];
          lines.push({ id: r.child_id, score: Number(r.score) });
          byParent.set(r.parent_id, lines);
        }
        for (const k of group) {
          const lines = byParent.get(k.parentId) ?? [];
          result.set(`${g}/${k.parentId}`, {
            lines: lines.slice(0, first),
            hasNextPage: lines.length > first,
          });
        }
      }
      return keys.map((k) => result.get(`${groupOf(k)}/${k.parentId}`)!);
    },
    { name: 'relevancePagesByBudget', cacheKeyFn: (k) => JSON.stringify([k.parentId, groupOf(k)]) },
  );
}

/**
 * Budget.lines with `filter.search`, most relevant first: the page through {@link relevancePagesLoader},
 * the nodes through `lineById` (copies marked with the search, for their highlights), the count through
 * `lineCountsByBudget`; a constant number of statements however many budgets are on the page, and none for
 * the page when no row is asked (`first: 0`). Cursors are those of a root list in relevance order
 * (common/src/search/connection.ts): a cursor of another search or of another order is refused.
 */
export async function loadSearchedLines(
  loaders: BudgetLoaders,
  budgetId: string,
  args: PageArgs,
  variant: LinesVariant,
): Promise<Connection<BudgetLine>> {
  const search = variant.filter.search;
  if (!search) throw new Error('loadSearchedLines: the filter has no search');
  const { first } = toPage({ first: args.first });
  const after = args.after ? decodeRelevanceCursor(args.after, search) : null;
  const page: RelevancePage = first
    ? await loaders.relevancePagesByBudget.load({ parentId: budgetId, first, after, variant })
    : { lines: [], hasNextPage: false };
  const loaded = await loaders.lineById.loadMany(page.lines.map((l) => l.id));
  const scores = new Map(page.lines.map((l) => [l.id, l.score]));
  const nodes = markFound(
    loaded.filter((n): n is BudgetLine => n !== null && !(n instanceof Error)),
    search,
  );
  const edges = nodes.map((node) => ({
    cursor: encodeRelevanceCursor(search, scores.get(node.id)!, node.id),
    node,
  }));
  return {
    totalCount: () => loaders.lineCountsByBudget.load({ parentId: budgetId, variant }),
    edges,
    nodes,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

type PageKey<V> = { parentId: string; page: Page; variant: V };
type CountKey<V> = { parentId: string; variant: V };

/** The budgets subgraph's per-request loaders. */
export interface BudgetLoaders {
  budgetById: DataLoader<string, Budget | null>;
  lineById: DataLoader<string, BudgetLine | null>;
  budgetsByOrganization: DataLoader<string, Budget[]>;
  amountsByLine: DataLoader<string, BudgetAmount[]>;
  /** A line's dimension rows, in the source's order: one statement per batch of lines. */
  dimensionsByLine: DataLoader<string, BudgetLineDimension[]>;
  /** The dictionary entries of codes (labels): one statement per batch of codes. */
  codeByKey: DataLoader<CodeRef, CodeEntry | null, string>;
  linksByLine: DataLoader<string, CommitmentBudgetLine[]>;
  linksByCommitment: DataLoader<string, CommitmentBudgetLine[]>;
  linePagesByBudget: DataLoader<PageKey<LinesVariant>, ChildPage, string>;
  lineCountsByBudget: DataLoader<CountKey<LinesVariant>, number, string>;
  relevancePagesByBudget: DataLoader<RelevancePageKey, RelevancePage, string>;
  totals: DataLoader<TotalKey, string | null, string>;
  summariesByOrganization: DataLoader<SummaryKey, Summary, string>;
  fundingByCommitment: DataLoader<string, FundingRow[]>;
}

/** One organization's summary, grouped by some dimensions. */
export interface SummaryKey {
  organizationId: string;
  groupBy: GroupSpec[];
  /** The argument the grouping came from, named when the summary has too many groups. */
  argument: string;
}

/**
 * Organization.budgetSummary for many organizations: one statement per distinct grouping (two with a code
 * level: its labels come from aggregate lines), the organization as a hidden first key; each key gets its
 * organization's groups, in order, or an error when it has more than MAX_GROUPS of them.
 */
function summariesLoader(ds: DataSource): DataLoader<SummaryKey, Summary, string> {
  const keyOf = (organizationId: string, groupBy: readonly GroupSpec[]) =>
    JSON.stringify([organizationId, groupBy]);
  return new DataLoader(
    async (keys) => {
      const byGroupBy = new Map<string, SummaryKey[]>();
      for (const k of keys) {
        const g = JSON.stringify(k.groupBy);
        byGroupBy.set(g, [...(byGroupBy.get(g) ?? []), k]);
      }
      const result = new Map<string, Summary | Error>();
      for (const group of byGroupBy.values()) {
        const { groupBy, argument } = group[0];
        const organizationIds = [...new Set(group.map((k) => k.organizationId))];
        const opts = { filter: NO_LINE_FILTER, groupBy, organizationIds };
        // Past the limit, rows of the last organizations read may be missing: none of them is answered.
        const limit = MAX_GROUPS * organizationIds.length + 1;
        const [rows, aggregates] = await Promise.all([
          summarize(ds, { ...opts, bounds: [], limit }),
          aggregateLines(ds, opts),
        ]);
        const summaries = new Map<string, Summary>();
        for (const id of organizationIds) summaries.set(id, { rows: [], aggregates: [] });
        // Rows come in order, organization first: each organization's groups keep that order.
        for (const r of rows) summaries.get(r.organizationId!)?.rows.push(r);
        for (const a of aggregates) summaries.get(a.organizationId)?.aggregates.push(a);
        for (const [id, summary] of summaries) {
          const refused = rows.length >= limit || summary.rows.length > MAX_GROUPS;
          result.set(keyOf(id, groupBy), refused ? tooManyGroups(argument) : summary);
        }
      }
      return keys.map((k) => result.get(keyOf(k.organizationId, k.groupBy))!);
    },
    {
      name: 'summariesByOrganization',
      maxBatchSize: MAX_BATCH,
      cacheKeyFn: (k) => keyOf(k.organizationId, k.groupBy),
    },
  );
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
      measure: 'ASC',
    }),
    dimensionsByLine: groupLoader(ds.getRepository(BudgetLineDimensionEntity), 'lineId', 'dimensionsByLine', {
      position: 'ASC',
    }),
    codeByKey: codeLoader(ds),
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
    linePagesByBudget: childPageLoader(ds, 'linePagesByBudget', linesOfBudget(ds)),
    lineCountsByBudget: childCountLoader(ds, 'lineCountsByBudget', linesOfBudget(ds)),
    relevancePagesByBudget: relevancePagesLoader(ds),
    totals: totalsLoader(ds),
    summariesByOrganization: summariesLoader(ds),
    fundingByCommitment: new DataLoader((ids) => fundingOf(ds, ids), {
      name: 'fundingByCommitment',
      maxBatchSize: MAX_BATCH,
    }),
  };
}
