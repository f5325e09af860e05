import { basename } from 'node:path';
import type { EntityManager } from 'typeorm';
import { chunk, placeholders } from '@civic/common/db';
import { readCsv, type CsvColumn } from '@civic/common/import/csv';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow, WriteContext } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import {
  digest,
  insertRows,
  PROVENANCE_COLUMNS,
  provenanceValues,
  sortStored,
  upsertRows,
  type Stored,
} from '@civic/common/import/write';
import { toMinorUnits } from '@civic/common/money';
import { BUDGET_DIRECTIONS, type BudgetDirection, type CommitmentBudgetLine } from '../entities/Budget';

/**
 * `commitment-budget-links`: which budget lines fund which commitments, as a city (or anyone who knows)
 * writes them down, one link a row of a CSV file:
 *
 * - `commitment_id`: the commitment, by its id in the commitments subgraph (`MO0012`, an OGP Local
 *   commitment's `ogpl-…-01`). That subgraph owns commitments: only the id's form is checked here, and the
 *   gateway joins (a link to an id it does not know simply resolves to nothing there).
 * - the budget line, which must exist in this subgraph (else the row is refused, naming the column): its id
 *   (`budget_line_id`, `tn-34012-2018-EXP-1.02201.0080.020`), or its budget and code (`budget_id`,
 *   `line_code`, and `direction` when the budget has that code on both sides);
 * - how much of the line funds it, when known: `share` (`0.25` or `25%`) or `amount` (exact, in the budget's
 *   currency), never both;
 * - `note`, and `source`: the document the link rests on (a council decision, an action plan, a URL).
 *
 * Every link belongs to a dataset (--dataset, by default the file's name without its extension): its links
 * that a newer file no longer has are reported, and deleted with --prune. A link cites its file, checksum and
 * line; re-importing an unchanged file writes nothing (the row digest).
 */
export const COMMITMENT_BUDGET_LINKS = 'commitment-budget-links';

export const LINK_COLUMNS: readonly CsvColumn[] = [
  { name: 'commitment_id', required: true, aliases: ['commitment', 'commitment.id'] },
  { name: 'budget_line_id', aliases: ['line_id', 'budget_line', 'budgetLine.id'] },
  { name: 'budget_id', aliases: ['budget', 'budget.id'] },
  { name: 'line_code', aliases: ['code'] },
  { name: 'direction' },
  { name: 'share', aliases: ['percent', 'percentage'] },
  { name: 'amount' },
  { name: 'note', aliases: ['notes', 'comment'] },
  { name: 'source', aliases: ['reference', 'document'] },
];

/** Ids of another subgraph's commitment: what the links table holds (64 characters), no spaces. */
const COMMITMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_LINE_ID = 191;
const MAX_TEXT = 1024;

/** Where a row's line is: its id, or its budget, code and (when given) direction. */
type LineRef = { id: string } | { budgetId: string; code: string; direction: BudgetDirection | null };

/** A row as validated: what it says, before its line is looked up (see `check`). */
export interface LinkRow {
  line: number;
  commitmentId: string;
  ref: LineRef;
  /** The id given with a budget and code too: they must agree. */
  alsoId: string | null;
  share: string | null;
  /** The amount as written (its decimals are checked against the budget's currency). */
  amount: string | null;
  note: string | null;
  reference: string | null;
  /** The link to write, once `check` found its line. */
  link?: CommitmentBudgetLine;
}

/** A share as an exact decimal fraction, 0 < share <= 1: `0.25`, `25%` (at most 6 decimals once a fraction). */
export function parseShare(raw: string): { share: string } | { reason: string } {
  const v = raw.trim();
  const m = /^(\d+)(?:\.(\d+))?(\s*%)?$/.exec(v);
  if (!m) return { reason: `${JSON.stringify(raw)} is not a share: a fraction (0.25) or a percentage (25%)` };
  const [, whole, frac = '', percent] = m;
  // The value in millionths, exactly: a percentage's decimal point moves two places left.
  const scale = percent ? 4 : 6;
  if (frac.length > scale) return { reason: `${JSON.stringify(raw)} has more than ${scale} decimals` };
  const millionths = BigInt(whole + frac.padEnd(scale, '0'));
  if (millionths <= 0n || millionths > 1_000_000n)
    return { reason: `${JSON.stringify(raw)} is not a share greater than 0 and at most 1 (100%)` };
  const digits = millionths.toString().padStart(7, '0');
  const fraction = `${digits.slice(0, -6)}.${digits.slice(-6)}`.replace(/\.?0+$/, '');
  return { share: fraction };
}

const DIRECTION_WORDS: Record<string, BudgetDirection> = {
  expenditure: 'EXPENDITURE',
  exp: 'EXPENDITURE',
  depense: 'EXPENDITURE',
  depenses: 'EXPENDITURE',
  revenue: 'REVENUE',
  rev: 'REVENUE',
  recette: 'REVENUE',
  recettes: 'REVENUE',
};

/** A cell's text, or null when empty or blank; kept as written otherwise. */
const cell = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v);

/** Validates a row's cells (everything but whether its line exists): every problem together. */
export function validateLinkRow(row: SourceRow<Record<string, string>>, ctx: ImportContext): LinkRow | null {
  const { line, data: v } = row;
  const problems: ImportIssue[] = [];
  const problem = (column: string, reason: string) =>
    problems.push(ctx.issue(line, column, v[column] ?? '', reason));

  const commitmentId = v.commitment_id.trim();
  if (!commitmentId) problem('commitment_id', 'no commitment id');
  else if (!COMMITMENT_ID.test(commitmentId))
    problem(
      'commitment_id',
      `${JSON.stringify(v.commitment_id)} is not a commitment id (up to 64 letters, digits, ".", "_" or "-", as MO0012)`,
    );

  const id = v.budget_line_id.trim();
  const budgetId = v.budget_id.trim();
  const code = v.line_code.trim();
  const dirText = v.direction.trim();
  const direction = dirText
    ? (DIRECTION_WORDS[dirText.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()] ??
      (BUDGET_DIRECTIONS as readonly string[]).find((d) => d === dirText.toUpperCase()) ??
      null)
    : null;
  if (dirText && !direction)
    problem('direction', `${JSON.stringify(v.direction)} is not expenditure or revenue`);
  let ref: LineRef | null = null;
  if (id.length > MAX_LINE_ID) problem('budget_line_id', `a line id has at most ${MAX_LINE_ID} characters`);
  else if (budgetId || code) {
    if (!budgetId) problem('budget_id', `no budget id for line code ${code}`);
    else if (!code) problem('line_code', `no line code for budget ${budgetId}`);
    else ref = { budgetId, code, direction: direction as BudgetDirection | null };
  } else if (id) ref = { id };
  else problem('budget_line_id', 'no budget line: give budget_line_id, or budget_id and line_code');

  const shareCell = cell(v.share);
  const amountCell = cell(v.amount);
  let share: string | null = null;
  if (shareCell !== null && amountCell !== null)
    problem('amount', 'a share and an amount: give one of them (or neither)');
  else if (shareCell !== null) {
    const s = parseShare(shareCell);
    if ('reason' in s) problem('share', s.reason);
    else share = s.share;
  } else if (amountCell !== null) {
    const m = /^\d+(\.\d+)?$/.exec(amountCell.trim());
    if (!m)
      problem(
        'amount',
        `${JSON.stringify(v.amount)} is not an amount: digits, with a decimal point (12500.5)`,
      );
    else if (/^[0.]+$/.test(amountCell.trim()))
      problem('amount', 'an amount funding a commitment is more than 0');
  }
  const note = cell(v.note);
  const reference = cell(v.source);
  if (note && note.length > MAX_TEXT) problem('note', `a note has at most ${MAX_TEXT} characters`);
  if (reference && reference.length > MAX_TEXT)
    problem('source', `a source has at most ${MAX_TEXT} characters`);

  if (problems.length || !ref) {
    ctx.refuse(problems);
    return null;
  }
  return {
    line,
    commitmentId,
    ref,
    alsoId: 'budgetId' in ref && id ? id : null,
    share,
    amount: amountCell === null ? null : amountCell.trim(),
    note,
    reference,
  };
}

/** A row's key before its line is looked up: two rows naming the same line alike are one link. */
const rowKey = (r: LinkRow) =>
  'id' in r.ref
    ? `${r.commitmentId}|${r.ref.id}`
    : `${r.commitmentId}|${r.ref.budgetId}|${r.ref.code}|${r.ref.direction ?? ''}`;

/** A stored link's key. */
const pairKey = (commitmentId: string, lineId: string) => `${commitmentId}\u0000${lineId}`;

interface FoundLine {
  id: string;
  budgetId: string;
  code: string;
  direction: BudgetDirection;
  currency: string;
}

const LINE_SQL = `SELECT l.id AS id, l.budget_id AS b, l.code AS c, l.direction AS d, bu.currency AS cur
  FROM budget_lines l JOIN budgets bu ON bu.id = l.budget_id`;

const found = (r: { id: string; b: string; c: string; d: string; cur: string }): FoundLine => ({
  id: String(r.id),
  budgetId: String(r.b),
  code: String(r.c),
  direction: r.d as BudgetDirection,
  currency: String(r.cur),
});

/** The lines a batch names, by id and by budget and code: a statement per 1,000 ids or budgets. */
async function findLines(m: EntityManager, rows: readonly LinkRow[]) {
  const ids = new Set<string>();
  const budgets = new Set<string>();
  const codes = new Set<string>();
  for (const r of rows) {
    if ('id' in r.ref) ids.add(r.ref.id);
    else {
      budgets.add(r.ref.budgetId);
      codes.add(r.ref.code);
    }
  }
  const byId = new Map<string, FoundLine>();
  const byCode = new Map<string, FoundLine[]>();
  for (const part of chunk([...ids], 1000))
    for (const r of await m.query(`${LINE_SQL} WHERE l.id IN (${placeholders(part.length)})`, part))
      byId.set(String(r.id), found(r));
  const codeList = [...codes];
  for (const part of chunk([...budgets], 1000))
    for (const cp of chunk(codeList, 1000))
      for (const r of await m.query(
        `${LINE_SQL} WHERE l.budget_id IN (${placeholders(part.length)}) AND l.code IN (${placeholders(cp.length)})`,
        [...part, ...cp],
      )) {
        const f = found(r);
        const k = `${f.budgetId}|${f.code}`;
        byCode.set(k, [...(byCode.get(k) ?? []), f]);
      }
  const budgetsFound = new Set<string>();
  for (const part of chunk([...budgets], 1000))
    for (const r of await m.query(`SELECT id FROM budgets WHERE id IN (${placeholders(part.length)})`, part))
      budgetsFound.add(String(r.id));
  const hasBudget = (b: string) => budgetsFound.has(b);
  return { byId, byCode, hasBudget };
}

/** What one run remembers: the link each row became (duplicates), the rows refused (never pruned). */
interface LinkRunState {
  /** The first line of each link written, by commitment and line. */
  lines: Map<string, number>;
  /** Links of refused rows: the file still has them, so they are never missing. */
  refused: Set<string>;
}

/** The links table's key of a link. */
const linkKey = (l: Pick<CommitmentBudgetLine, 'commitmentId' | 'lineId'>) =>
  pairKey(l.commitmentId, l.lineId);

/** The dataset a links file loads into: --dataset, or the file's name without its extension. */
export const linksDatasetOf = (file: string, params: Readonly<Record<string, string | undefined>>) =>
  params.dataset?.trim() || basename(file).replace(/\.csv$/i, '');

/**
 * Finds each row's line (refusing a row whose line, or budget, does not exist, naming its column), turns its
 * amount into minor units of that line's budget currency, and builds the link with its provenance.
 */
async function checkLinks(
  m: EntityManager,
  rows: LinkRow[],
  ctx: ImportContext,
  state: LinkRunState,
  source: { dataset: string; url: string | null; license: string | null },
): Promise<LinkRow[]> {
  const { byId, byCode, hasBudget } = await findLines(m, rows);
  const kept: LinkRow[] = [];
  for (const r of rows) {
    const refuse = (
      column: string,
      value: string | null,
      reason: string,
      lineId = 'id' in r.ref ? r.ref.id : null,
    ) => {
      if (lineId !== null) state.refused.add(pairKey(r.commitmentId, lineId));
      ctx.refuse([ctx.issue(r.line, column, value, reason)]);
    };
    let line: FoundLine | undefined;
    if ('id' in r.ref) {
      line = byId.get(r.ref.id);
      if (!line) {
        refuse('budget_line_id', r.ref.id, `no budget line ${r.ref.id} in the budgets`);
        continue;
      }
    } else {
      const { budgetId, code, direction } = r.ref;
      const candidates = (byCode.get(`${budgetId}|${code}`) ?? []).filter(
        (l) => direction === null || l.direction === direction,
      );
      if (!hasBudget(budgetId)) {
        refuse('budget_id', budgetId, `no budget ${budgetId} in the budgets`);
        continue;
      }
      if (!candidates.length) {
        const side = direction ? ` ${direction.toLowerCase()}` : '';
        refuse('line_code', code, `budget ${budgetId} has no${side} line ${code}`);
        continue;
      }
      if (candidates.length > 1) {
        refuse(
          'direction',
          null,
          `budget ${budgetId} has line ${code} as expenditure and as revenue: say which`,
        );
        continue;
      }
      line = candidates[0];
      if (r.alsoId !== null && r.alsoId !== line.id) {
        refuse('budget_line_id', r.alsoId, `is not line ${code} of budget ${budgetId} (${line.id})`);
        continue;
      }
    }
    let amountMinor: string | null = null;
    if (r.amount !== null) {
      try {
        amountMinor = toMinorUnits(r.amount, line.currency).toString();
      } catch (err) {
        const reason = `${(err as Error).message} (the currency of budget ${line.budgetId})`;
        refuse('amount', r.amount, reason, line.id);
        continue;
      }
    }
    const key = pairKey(r.commitmentId, line.id);
    const first = state.lines.get(key);
    if (first !== undefined) {
      ctx.refuse([
        ctx.issue(
          r.line,
          null,
          `${r.commitmentId} → ${line.id}`,
          `duplicate key: the same link as line ${first}`,
        ),
      ]);
      continue;
    }
    state.lines.set(key, r.line);
    const content = {
      commitmentId: r.commitmentId,
      lineId: line.id,
      share: r.share,
      amountMinor,
      note: r.note,
      reference: r.reference,
      source,
    };
    r.link = {
      ...content,
      ...ctx.provenance(source, r.line, `${basename(ctx.file)}:line ${r.line}`, digest(content)),
    };
    kept.push(r);
  }
  return kept;
}

const COLUMNS = [
  'commitment_id',
  'line_id',
  'share',
  'amount_minor',
  'note',
  'reference',
  ...PROVENANCE_COLUMNS,
] as const;
const values = (l: CommitmentBudgetLine): unknown[] => [
  l.commitmentId,
  l.lineId,
  l.share,
  l.amountMinor,
  l.note,
  l.reference,
  ...provenanceValues(l),
];

/** What is stored of the batch's links, by commitment and line: a statement per 1,000 commitments. */
async function storedLinks(m: EntityManager, links: readonly CommitmentBudgetLine[]) {
  const wanted = new Set(links.map(linkKey));
  const stored = new Map<string, Stored>();
  for (const part of chunk([...new Set(links.map((l) => l.commitmentId))], 1000)) {
    const rows: { c: string; l: string; d: string | null; k: string | null; n: number | null; s: string }[] =
      await m.query(
        `SELECT commitment_id AS c, line_id AS l, row_digest AS d, source_checksum AS k, source_line AS n,
                source_dataset AS s
           FROM commitment_budget_lines WHERE commitment_id IN (${placeholders(part.length)})`,
        part,
      );
    for (const r of rows) {
      const key = pairKey(String(r.c), String(r.l));
      if (wanted.has(key))
        stored.set(key, {
          digest: r.d,
          checksum: r.k,
          line: r.n === null ? null : Number(r.n),
          dataset: r.s,
        });
    }
  }
  return stored;
}

/** Writes a batch of checked links: new ones inserted, changed ones updated, unchanged ones counted. */
async function writeLinks(m: EntityManager, rows: readonly LinkRow[], w: WriteContext): Promise<void> {
  const links = rows.map((r) => r.link!);
  const sorted = sortStored(w, links, await storedLinks(m, links), linkKey, (l) => l);
  await insertRows(m, 'commitment_budget_lines', COLUMNS, sorted.fresh.map(values));
  await upsertRows(
    m,
    'commitment_budget_lines',
    COLUMNS,
    ['commitment_id', 'line_id'],
    sorted.changed.map(values),
  );
  w.count('commitment_budget_lines', 'inserted', sorted.fresh.length);
  w.count('commitment_budget_lines', 'updated', sorted.changed.length);
  w.count('commitment_budget_lines', 'unchanged', sorted.unchanged);
}

/** The dataset's links this file did not write, but those of its refused rows (the file still has them). */
async function missingLinks(m: EntityManager, ctx: ImportContext, dataset: string, state: LinkRunState) {
  const rows: { c: string; l: string }[] = await m.query(
    `SELECT commitment_id AS c, line_id AS l FROM commitment_budget_lines
      WHERE source_dataset = ? AND (source_checksum IS NULL OR source_checksum <> ?)`,
    [dataset, ctx.facts.checksum],
  );
  return rows
    .map((r) => ({ commitmentId: String(r.c), lineId: String(r.l) }))
    .filter((l) => !state.refused.has(linkKey(l)))
    .sort((a, b) => (linkKey(a) < linkKey(b) ? -1 : linkKey(a) > linkKey(b) ? 1 : 0));
}

/** The `commitment-budget-links` part, for one run's options (--dataset, --source-url, --license). */
export function commitmentBudgetLinksPart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<Record<string, string>, LinkRow> {
  const sourceOf = (ctx: ImportContext) => ({
    dataset: linksDatasetOf(ctx.file, params),
    url: params['source-url']?.trim() || null,
    license: params.license?.trim() || null,
  });
  let state: LinkRunState = { lines: new Map(), refused: new Set() };
  return {
    importer: COMMITMENT_BUDGET_LINKS,
    subgraph: 'budgets',
    scope: (ctx) => linksDatasetOf(ctx.file, params),
    async *read(ctx) {
      state = { lines: new Map(), refused: new Set() };
      for await (const rec of readCsv(ctx.path, ctx.file, ctx.facts, { columns: LINK_COLUMNS }, ctx))
        yield { line: rec.line, data: rec.values };
    },
    validate(row, ctx) {
      const r = validateLinkRow(row, ctx);
      const id = row.data.budget_line_id?.trim();
      // A refused row naming its line by id still names a link the file has: never pruned.
      if (!r && id && row.data.commitment_id?.trim())
        state.refused.add(pairKey(row.data.commitment_id.trim(), id));
      return r;
    },
    key: rowKey,
    check: (m, rows, ctx) => checkLinks(m, rows, ctx, state, sourceOf(ctx)),
    write: (m, rows, w) => writeLinks(m, rows, w),
    async missing(m, ctx, scope) {
      const missing = await missingLinks(m, ctx, scope, state);
      return {
        count: missing.length,
        sample: missing.slice(0, 10).map((l) => `${l.commitmentId} → ${l.lineId}`),
      };
    },
    async prune(m, ctx, scope, w) {
      const missing = await missingLinks(m, ctx, scope, state);
      for (const part of chunk(missing, 500))
        await m.query(
          `DELETE FROM commitment_budget_lines WHERE ${part.map(() => '(commitment_id = ? AND line_id = ?)').join(' OR ')}`,
          part.flatMap((l) => [l.commitmentId, l.lineId]),
        );
      w.count('commitment_budget_lines', 'deleted', missing.length);
    },
  };
}

/** The `commitment-budget-links` kind of `npm run import`. */
export const commitmentBudgetLinksImporter: SubgraphImporter = {
  kind: COMMITMENT_BUDGET_LINKS,
  description:
    'CSV of links between commitments and the budget lines that fund them (commitment_id, budget_line_id or budget_id and line_code, share or amount, note, source)',
  params: [
    {
      name: 'dataset',
      description:
        'the dataset the links belong to (default: the file name without extension); --prune scope',
    },
    { name: 'source-url', description: "where the file is published (cited as the links' source URL)" },
    { name: 'license', description: 'the licence of the file (cited with the links)' },
  ],
  part: (params) => {
    if (params.dataset !== undefined && !params.dataset.trim())
      throw new Error('--dataset must not be empty');
    if (params.dataset && params.dataset.length > 191)
      throw new Error('--dataset must be at most 191 characters');
    return commitmentBudgetLinksPart(params);
  },
};
