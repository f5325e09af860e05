import type { EntityManager } from 'typeorm';
import {
  OGP_COLUMNS,
  OgpIdentifiers,
  readOgpExportRecords,
  validateOgpRecord,
} from '@civic/formats/ogp-export';
import { chunk, placeholders } from '@civic/common/db';
import { quoteName as q } from '@civic/common/dialect';
import { classifyDerived, firstPerKey, writeEntities } from '@civic/common/import/derived';
import type { ImportContext, ImporterPart, WriteContext } from '@civic/common/import/pipeline';
import { classify, deleteWhereIn, digest, insertRows, missingKeys } from '@civic/common/import/write';
import { indexDocuments, removeDocuments } from '@civic/common/search';
import { SOURCES } from '@civic/formats/sources';
import { ActionPlanEntity, type ActionPlan } from '../entities/ActionPlan';
import { CommitmentEntity, type Commitment } from '../entities/Commitment';
import type {
  CommitmentCoLead,
  CommitmentOgpValue,
  CommitmentPolicyArea,
  CommitmentSupporter,
} from '../entities/CommitmentLinks';
import {
  ACTION_PLAN_SEARCH_TYPE,
  actionPlanDocuments,
  COMMITMENT_SEARCH_TYPE,
  commitmentDocuments,
} from '../search';
import {
  EXPORT_PLAN_FIELDS,
  exportActionPlan,
  exportCommitment,
  exportCommitmentLinks,
  exportCommitmentSource,
} from './ogp-rows';
import { refreshCommitmentStats } from '../stats';

/** The import kind, and the importer name its runs are recorded under in each subgraph. */
export const OGP_COMMITMENTS_KIND = 'ogp-commitments';

const SOURCE = SOURCES.ogpCommitments;
/** What this import owns in this subgraph: the records of the export's dataset (the seed's and any import's). */
const SCOPE_SQL = 'source_dataset = ?';

type Cells = Record<string, string>;

/** One row of the export as this subgraph stores it: its commitment, the links, and the plan it names. */
export interface CommitmentImportRow {
  line: number;
  commitment: Commitment;
  coLeads: CommitmentCoLead[];
  supporters: CommitmentSupporter[];
  policyAreas: CommitmentPolicyArea[];
  ogpValues: CommitmentOgpValue[];
  /** The plan as this row describes it; the first row naming a plan decides what is stored. */
  plan: ActionPlan;
}

/** The export column each plan field is read from, for warnings about rows that disagree on a plan. */
const PLAN_FIELD_COLUMNS: Record<(typeof EXPORT_PLAN_FIELDS)[number], string> = {
  memberId: OGP_COLUMNS.code,
  country: OGP_COLUMNS.code,
  number: OGP_COLUMNS.actionPlanNumber,
  startYear: OGP_COLUMNS.yearOfSubmission,
  endYear: OGP_COLUMNS.actionPlanEndYear,
  memberName: OGP_COLUMNS.locality,
};

/** A child table of commitments: rows of one commitment are replaced together when any differs. */
interface ChildTable<C> {
  table: string;
  columns: readonly string[];
  /** The column telling a commitment's children apart (the rest of a child's values may change: an update). */
  keyColumn: string;
  key(c: C): string;
  values(c: C): unknown[];
}

const SUPPORTERS: ChildTable<CommitmentSupporter> = {
  table: 'commitment_supporting_organizations',
  columns: ['commitment_id', 'organization_id', 'position'],
  keyColumn: 'organization_id',
  key: (c) => c.organizationId,
  values: (c) => [c.commitmentId, c.organizationId, c.position],
};
const CO_LEADS: ChildTable<CommitmentCoLead> = {
  table: 'commitment_co_lead_organizations',
  columns: ['commitment_id', 'organization_id', 'position'],
  keyColumn: 'organization_id',
  key: (c) => c.organizationId,
  values: (c) => [c.commitmentId, c.organizationId, c.position],
};
const POLICY_AREAS: ChildTable<CommitmentPolicyArea> = {
  table: 'commitment_policy_areas',
  columns: ['commitment_id', 'policy_area'],
  keyColumn: 'policy_area',
  key: (c) => c.policyArea,
  values: (c) => [c.commitmentId, c.policyArea],
};
const OGP_VALUES: ChildTable<CommitmentOgpValue> = {
  table: 'commitment_ogp_values',
  columns: ['commitment_id', 'value'],
  keyColumn: 'value',
  key: (c) => c.value,
  values: (c) => [c.commitmentId, c.value],
};

/**
 * Brings the children of these commitments to `wanted`: one SELECT per 1,000 commitments, then the children
 * of each commitment with any difference deleted and inserted again. Counted by what changed: a child
 * stored identical is unchanged, one with other values (a supporter's position) updated.
 */
async function syncChildren<C>(
  m: EntityManager,
  w: WriteContext,
  spec: ChildTable<C>,
  commitmentIds: readonly string[],
  wanted: ReadonlyMap<string, readonly C[]>,
): Promise<void> {
  if (!commitmentIds.length) return;
  const stored = new Map<string, Map<string, string>>();
  for (const part of chunk(commitmentIds, 1000)) {
    const found: Record<string, unknown>[] = await m.query(
      `SELECT ${spec.columns.map((c) => q(m, c)).join(', ')} FROM ${q(m, spec.table)} WHERE commitment_id IN (${placeholders(part.length)})`,
      [...part],
    );
    for (const f of found) {
      const id = String(f.commitment_id);
      const values = spec.columns.map((c) => (f[c] === null ? null : String(f[c])));
      let byKey = stored.get(id);
      if (!byKey) stored.set(id, (byKey = new Map()));
      byKey.set(String(f[spec.keyColumn]), JSON.stringify(values));
    }
  }
  const rewrite: string[] = [];
  const rows: unknown[][] = [];
  const counts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
  for (const id of commitmentIds) {
    const have = stored.get(id) ?? new Map<string, string>();
    const want = wanted.get(id) ?? [];
    let differs = false;
    const keys = new Set<string>();
    for (const c of want) {
      const k = spec.key(c);
      keys.add(k);
      const v = JSON.stringify(spec.values(c).map((x) => (x === null ? null : String(x))));
      const s = have.get(k);
      if (s === undefined) {
        counts.inserted += 1;
        differs = true;
      } else if (s !== v) {
        counts.updated += 1;
        differs = true;
      } else counts.unchanged += 1;
    }
    for (const k of have.keys())
      if (!keys.has(k)) {
        counts.deleted += 1;
        differs = true;
      }
    if (!differs) continue;
    if (have.size) rewrite.push(id);
    for (const c of want) rows.push(spec.values(c));
  }
  await deleteWhereIn(m, spec.table, 'commitment_id', rewrite);
  await insertRows(m, spec.table, spec.columns, rows);
  for (const [what, n] of Object.entries(counts)) if (n) w.count(spec.table, what as keyof typeof counts, n);
}

/** Groups children by their commitment. */
function byCommitment<C extends { commitmentId: string }>(rows: readonly C[]): Map<string, C[]> {
  const out = new Map<string, C[]>();
  for (const r of rows) {
    const list = out.get(r.commitmentId);
    if (list) list.push(r);
    else out.set(r.commitmentId, [r]);
  }
  return out;
}

/**
 * Rows naming a plan that disagree with the row that decided it (the first row naming it): a warning each,
 * naming the field, this row's value and the value kept, as the seed reports them.
 */
async function warnPlanDisagreements(
  m: EntityManager,
  ctx: ImportContext,
  disagreeing: { plan: ActionPlan; decidedBy: ActionPlan | null }[],
): Promise<void> {
  if (!disagreeing.length) return;
  // Plans decided by a row of an earlier batch: read what it stored.
  const toRead = [...new Set(disagreeing.filter((d) => !d.decidedBy).map((d) => d.plan.id))];
  const stored = new Map<string, ActionPlan>();
  for (const part of chunk(toRead, 1000)) {
    const found = await m
      .getRepository(ActionPlanEntity)
      .createQueryBuilder('p')
      .where('p.id IN (:...ids)', { ids: part })
      .getMany();
    for (const p of found) stored.set(p.id, p);
  }
  for (const { plan, decidedBy } of disagreeing) {
    const known = decidedBy ?? stored.get(plan.id);
    if (!known) continue;
    for (const field of EXPORT_PLAN_FIELDS) {
      const kept = known[field] == null ? null : known[field];
      if (kept === plan[field] || (kept !== null && String(kept) === String(plan[field]))) continue;
      ctx.warn(
        ctx.issue(
          plan.sourceLine,
          PLAN_FIELD_COLUMNS[field],
          plan[field] === null ? null : String(plan[field]),
          `action plan ${plan.id}: ${field} ${plan[field]} on this row, ${kept} on line ${known.sourceLine} ` +
            `(the first row naming the plan); kept ${kept}`,
        ),
      );
    }
  }
}

/**
 * Writes a batch: action plans first (the first row naming a plan decides it, in this batch or an earlier
 * one; rows that disagree are warned about), then commitments and the children of those written, then their
 * search documents.
 */
async function writeCommitmentRows(
  m: EntityManager,
  rows: CommitmentImportRow[],
  w: WriteContext,
): Promise<void> {
  // Action plans first: the first row naming a plan decides it, in this batch or an earlier one.
  const { first, later } = firstPerKey(
    rows.map((r) => r.plan),
    (p) => p.id,
  );
  const plans = await classifyDerived(
    m,
    w,
    'action_plans',
    'id',
    first,
    (p) => p.id,
    (p) => p,
  );
  const earlier = new Map(plans.earlier.map((e) => [e.row.id, e]));
  const disagreeing: { plan: ActionPlan; decidedBy: ActionPlan | null }[] = [];
  for (const e of plans.earlier)
    if (e.digest !== e.row.rowDigest) disagreeing.push({ plan: e.row, decidedBy: null });
  for (const { row, first: f } of later) {
    if (row.rowDigest === f.rowDigest) continue;
    const e = earlier.get(f.id);
    if (!e) disagreeing.push({ plan: row, decidedBy: f });
    else if (row.rowDigest !== e.digest) disagreeing.push({ plan: row, decidedBy: null });
  }
  for (const f of plans.foreign)
    w.ctx.warn(
      w.ctx.issue(
        f.row.sourceLine,
        OGP_COLUMNS.actionPlanId,
        f.row.id,
        `action plan ${f.row.id} is stored from "${f.dataset}": left as it is`,
      ),
    );
  await warnPlanDisagreements(m, w.ctx, disagreeing);
  await writeEntities(m, w, ActionPlanEntity, plans);

  // Commitments, then the children of those written.
  const c = await classify(
    m,
    w,
    'commitments',
    'id',
    rows,
    (r) => r.commitment.id,
    (r) => r.commitment,
  );
  await writeEntities(m, w, CommitmentEntity, {
    fresh: c.fresh.map((r) => r.commitment),
    changed: c.changed.map((r) => r.commitment),
    unchanged: c.unchanged,
  });
  const written = [...c.fresh, ...c.changed];
  const writtenIds = written.map((r) => r.commitment.id);
  await syncChildren(m, w, CO_LEADS, writtenIds, byCommitment(written.flatMap((r) => r.coLeads)));
  await syncChildren(m, w, SUPPORTERS, writtenIds, byCommitment(written.flatMap((r) => r.supporters)));
  await syncChildren(m, w, POLICY_AREAS, writtenIds, byCommitment(written.flatMap((r) => r.policyAreas)));
  await syncChildren(m, w, OGP_VALUES, writtenIds, byCommitment(written.flatMap((r) => r.ogpValues)));

  await indexDocuments(m, [
    ...actionPlanDocuments([...plans.fresh, ...plans.changed]),
    ...commitmentDocuments(written.map((r) => r.commitment)),
  ]);
}

/**
 * Deletes the commitments the file no longer has (--prune), with their children and search documents, and
 * the dataset's plans no commitment is left in; nothing while a refused row has no readable identifier.
 */
async function pruneCommitments(
  m: EntityManager,
  ctx: ImportContext,
  w: WriteContext,
  ids: OgpIdentifiers,
  missing: (m: EntityManager, ctx: ImportContext) => AsyncGenerator<string[]>,
): Promise<void> {
  if (ids.unidentified) {
    ctx.warn(
      ctx.issue(
        null,
        null,
        null,
        `--prune removed nothing: ${ids.unidentified} refused rows have no readable "${OGP_COLUMNS.id}", and any of ` +
          'them may be the row of a commitment reported missing (correct them and import again)',
      ),
    );
    return;
  }
  const gone: string[] = [];
  for await (const page of missing(m, ctx)) gone.push(...page);
  for (const part of chunk(gone, 1000)) {
    for (const table of [CO_LEADS.table, SUPPORTERS.table, POLICY_AREAS.table, OGP_VALUES.table]) {
      const [{ n }] = await m.query(
        `SELECT COUNT(*) AS n FROM ${q(m, table)} WHERE commitment_id IN (${placeholders(part.length)})`,
        [...part],
      );
      await deleteWhereIn(m, table, 'commitment_id', part);
      if (Number(n)) w.count(table, 'deleted', Number(n));
    }
    await deleteWhereIn(m, 'commitments', 'id', part);
    await removeDocuments(m, COMMITMENT_SEARCH_TYPE, part);
    w.count('commitments', 'deleted', part.length);
  }
  // Plans of the dataset the file no longer names and that no commitment is left in.
  const orphans: { id: string }[] = await m.query(
    `SELECT id FROM action_plans p WHERE p.${SCOPE_SQL} AND (p.source_checksum IS NULL OR p.source_checksum <> ?) ` +
      `AND NOT EXISTS (SELECT 1 FROM commitments c WHERE c.action_plan_id = p.id)`,
    [SOURCE.dataset, ctx.facts.checksum],
  );
  const orphanIds = orphans.map((o) => String(o.id));
  await deleteWhereIn(m, 'action_plans', 'id', orphanIds);
  await removeDocuments(m, ACTION_PLAN_SEARCH_TYPE, orphanIds);
  if (orphanIds.length) w.count('action_plans', 'deleted', orphanIds.length);
}

/**
 * The commitments subgraph's part of the `ogp-commitments` import: action plans (derived from the rows that
 * name them: the first row naming a plan decides it), commitments, their further lead institutions, their
 * supporting institutions, policy areas and OGP values, and their search documents. The lead and supporting institutions are referred to by
 * the organizations subgraph's stable key (formats/keys.ts), which that subgraph's part of the same
 * import writes. Scope: every record of the export's dataset (source_dataset = "OGP commitments export").
 */
export function ogpCommitmentsPart(): ImporterPart<Cells, CommitmentImportRow> {
  let ids = new OgpIdentifiers();

  /** Stored commitments of the dataset that this file did not write, less those it has but refused. */
  async function* missingCommitments(m: EntityManager, ctx: ImportContext): AsyncGenerator<string[]> {
    for await (const page of missingKeys(m, ctx, 'commitments', 'id', SCOPE_SQL, [SOURCE.dataset])) {
      const keep = page.filter((id) => !ids.isRefused(id));
      if (keep.length) yield keep;
    }
  }

  return {
    importer: OGP_COMMITMENTS_KIND,
    subgraph: 'commitments',
    scope: () => '',

    async *read(ctx) {
      ids = new OgpIdentifiers();
      yield* readOgpExportRecords(ctx, ids);
    },

    validate(row, ctx) {
      const r = validateOgpRecord(row.line, row.data, ctx);
      if (!r) {
        ids.refused(row.data);
        return null;
      }
      if (!ids.accept(r.id, row.line, ctx)) return null;
      const links = exportCommitmentLinks(r);
      const content = exportCommitment(r);
      const source = exportCommitmentSource(r);
      const commitment: Commitment = {
        ...content,
        ...ctx.provenance(source, row.line, r.id, digest([content, source.url, links]), r.adjustments),
      };
      const planContent = exportActionPlan(r);
      const plan: ActionPlan = {
        ...planContent,
        ...ctx.provenance(SOURCE, row.line, r.actionPlanId, digest(planContent)),
      };
      return { line: row.line, commitment, plan, ...links };
    },

    key: (r) => r.commitment.id,

    // The stored counts (stats.ts) follow every batch and pruning, in its transaction.
    write: async (m, rows, w) => {
      await writeCommitmentRows(m, rows, w);
      await refreshCommitmentStats(m);
    },

    async missing(m, ctx) {
      let count = 0;
      const sample: string[] = [];
      for await (const page of missingCommitments(m, ctx)) {
        count += page.length;
        for (const id of page) if (sample.length < 10) sample.push(id);
      }
      return { count, sample };
    },

    prune: async (m, ctx, _scope, w) => {
      await pruneCommitments(m, ctx, w, ids, missingCommitments);
      await refreshCommitmentStats(m);
    },
  };
}
