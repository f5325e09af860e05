import type { EntityManager } from 'typeorm';
import {
  ogpLocalSource,
  readOgpLocalRecords,
  validateOgpLocalRecord,
  type OgpLocalEntry,
  type OgpLocalRecord,
} from '@civic/formats/ogp-export';
import { placeholders } from '@civic/common/db';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, WriteContext } from '@civic/common/import/pipeline';
import { classify, deleteWhereIn, digest, missingKeys } from '@civic/common/import/write';
import { writeEntities } from '@civic/common/import/derived';
import { indexDocuments, removeDocuments } from '@civic/common/search';
import type { WithProvenance } from '@civic/common/provenance';
import { SOURCES } from '@civic/formats/sources';
import { ActionPlanEntity, type ActionPlan } from '../entities/ActionPlan';
import { CommitmentEntity, type Commitment } from '../entities/Commitment';
import {
  ACTION_PLAN_SEARCH_TYPE,
  actionPlanDocuments,
  COMMITMENT_SEARCH_TYPE,
  commitmentDocuments,
} from '../search';
import { EMPTY_ASSESSMENT } from './ogp-rows';
import { refreshCommitmentStats } from '../stats';

/** The import kind of the OGP Local members file (its organizations part is the organizations subgraph's). */
export const OGP_LOCAL_KIND = 'ogp-local';

const SOURCE = SOURCES.ogpLocal;
const SCOPE_SQL = 'source_dataset = ?';

/** One record of the file as this subgraph writes it: a member's action plans and described commitments. */
export interface OgpLocalPlansRow {
  key: string;
  plans: ActionPlan[];
  commitments: Commitment[];
}

/** "2027-06" → 2027; null when the text does not start with a year. */
const yearOf = (text: string | undefined): number | null => {
  const m = text ? /^(\d{4})/.exec(text) : null;
  return m ? Number(m[1]) : null;
};

type Member = OgpLocalRecord & { kind: 'member' };
type Plan = NonNullable<Member['record']['actionPlans']>[number];

/**
 * The commitments of a plan the file describes (El Kef's four, from the OGP article). They have no OGP
 * identifier: the id is the plan's and the order in the file. A commitment without a French or English name
 * is not loaded, with a warning. The file says nothing else about them: no lead, no dates, no assessment.
 */
function describedCommitments(
  ctx: ImportContext,
  line: number,
  r: Member,
  plan: Plan,
  planId: string,
  where: string,
) {
  const out: Commitment[] = [];
  (plan.commitmentsDescribed ?? []).forEach((c, i) => {
    const record = `${where}.commitmentsDescribed[${i}]`;
    // The article the names come from is French: the French name is the title as the source gives it.
    const title = c.names.fr ?? c.names.en;
    if (!title) {
      ctx.warn(ctx.issue(line, `${record}.names`, null, 'no French or English name: commitment not loaded'));
      return;
    }
    const content: Omit<Commitment, keyof WithProvenance> = {
      id: `${planId}-${String(i + 1).padStart(2, '0')}`,
      actionPlanId: planId,
      title,
      titleAr: c.names.ar ?? null,
      titleFr: c.names.fr ?? null,
      titleEn: c.names.en ?? null,
      titleEs: c.names.es ?? null,
      shortTitle: null,
      description: null,
      theme: null,
      leadOrganizationId: null,
      leadOrganizationName: null,
      leadInstitutionText: null,
      supportingInstitutionsText: null,
      startDate: null,
      endDate: null,
      startDateText: null,
      endDateText: null,
      ...EMPTY_ASSESSMENT,
    };
    const source = ogpLocalSource(SOURCE, r.sources, c.source);
    out.push({ ...content, ...ctx.provenance(source, line, record, digest([content, source.url])) });
  });
  return out;
}

/**
 * A member's action plans (`ogpl-el-kef-2021`), on the administrative unit it is (`tn-municipality-33011`),
 * with the commitments the file describes.
 */
function memberPlans(ctx: ImportContext, line: number, r: Member): Omit<OgpLocalPlansRow, 'key'> {
  const m = r.record;
  const plans: ActionPlan[] = [];
  const commitments: Commitment[] = [];
  (m.actionPlans ?? []).forEach((p, index) => {
    const id = `ogpl-${m.key}-${p.period.start}`;
    const where = `${m.key}.actionPlans[${index}]`;
    const content: Omit<ActionPlan, keyof WithProvenance> = {
      id,
      memberId: r.id,
      country: m.country,
      // OGP numbers national plans; the file gives no number for these local plans.
      number: null,
      startYear: yearOf(p.period.start),
      endYear: yearOf(p.period.end),
      submittedOn: p.submitted ?? null,
      // The file names the member in several languages; English first, as the export names its members.
      memberName: m.names.en ?? m.names.fr ?? m.names.ar ?? m.names.es ?? null,
    };
    const source = ogpLocalSource(SOURCE, r.sources, p.source);
    plans.push({ ...content, ...ctx.provenance(source, line, where, digest([content, source.url])) });
    commitments.push(...describedCommitments(ctx, line, r, p, id, where));
  });
  return { plans, commitments };
}

/** Writes a batch: plans, then commitments, each new or changed one indexed for search. */
async function writePlans(
  m: EntityManager,
  rows: readonly OgpLocalPlansRow[],
  w: WriteContext,
): Promise<void> {
  const plans = rows.flatMap((r) => r.plans);
  const p = await classify(
    m,
    w,
    'action_plans',
    'id',
    plans,
    (x) => x.id,
    (x) => x,
  );
  await writeEntities(m, w, ActionPlanEntity, p);
  const commitments = rows.flatMap((r) => r.commitments);
  const c = await classify(
    m,
    w,
    'commitments',
    'id',
    commitments,
    (x) => x.id,
    (x) => x,
  );
  await writeEntities(m, w, CommitmentEntity, c);
  await indexDocuments(m, [
    ...actionPlanDocuments([...p.fresh, ...p.changed]),
    ...commitmentDocuments([...c.fresh, ...c.changed]),
  ]);
}

/** The file's dataset's records of `table` that this file did not write. */
async function missingOf(m: EntityManager, ctx: ImportContext, table: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of missingKeys(m, ctx, table, 'id', SCOPE_SQL, [SOURCE.dataset])) out.push(...page);
  return out;
}

/** Deletes the commitments and plans of the dataset the file no longer has (--prune), with their search documents. */
async function prunePlans(m: EntityManager, ctx: ImportContext, w: WriteContext): Promise<void> {
  const commitments = await missingOf(m, ctx, 'commitments');
  for (const table of [
    'commitment_supporting_organizations',
    'commitment_co_lead_organizations',
    'commitment_policy_areas',
    'commitment_ogp_values',
  ])
    await deleteWhereIn(m, table, 'commitment_id', commitments);
  await deleteWhereIn(m, 'commitments', 'id', commitments);
  await removeDocuments(m, COMMITMENT_SEARCH_TYPE, commitments);
  if (commitments.length) w.count('commitments', 'deleted', commitments.length);
  // A plan a commitment of another file is still in stays.
  const missing = await missingOf(m, ctx, 'action_plans');
  const kept: { id: string }[] = missing.length
    ? await m.query(
        `SELECT DISTINCT action_plan_id AS id FROM commitments WHERE action_plan_id IN (${placeholders(missing.length)})`,
        missing,
      )
    : [];
  const keep = new Set(kept.map((k) => String(k.id)));
  const plans = missing.filter((id) => !keep.has(id));
  await deleteWhereIn(m, 'action_plans', 'id', plans);
  await removeDocuments(m, ACTION_PLAN_SEARCH_TYPE, plans);
  if (plans.length) w.count('action_plans', 'deleted', plans.length);
}

/**
 * The commitments subgraph's part of the `ogp-local` import: one action plan per plan a member lists
 * (`ogpl-el-kef-2021`), whose member is the administrative unit (the organizations subgraph's key), and the
 * commitments the file describes (`ogpl-el-kef-2021-01`), with their search documents. Scope: the records of
 * the file's dataset; those a newer file no longer has are reported (plans and commitments), deleted with
 * --prune.
 */
export function ogpLocalPlansPart(): ImporterPart<OgpLocalEntry, OgpLocalPlansRow> {
  return {
    importer: OGP_LOCAL_KIND,
    subgraph: 'commitments',
    scope: () => '',
    read: (ctx) => readOgpLocalRecords(ctx),
    validate(row, ctx) {
      const r = validateOgpLocalRecord(row, ctx);
      if (!r) return null;
      const key = `${row.data.list}/${r.key}`;
      return r.kind === 'member'
        ? { key, ...memberPlans(ctx, row.line, r) }
        : { key, plans: [], commitments: [] };
    },
    key: (r) => r.key,
    // The stored counts (stats.ts) follow every batch and pruning, in its transaction.
    write: async (m, rows, w) => {
      await writePlans(m, rows, w);
      await refreshCommitmentStats(m);
    },
    async missing(m, ctx) {
      const gone = [
        ...(await missingOf(m, ctx, 'action_plans')),
        ...(await missingOf(m, ctx, 'commitments')),
      ];
      return { count: gone.length, sample: gone.slice(0, 10) };
    },
    prune: async (m, ctx, _scope, w) => {
      await prunePlans(m, ctx, w);
      await refreshCommitmentStats(m);
    },
  };
}

/** The `ogp-local` kind as `npm run import` and the seed see it in this subgraph. */
export const ogpLocalImporter: SubgraphImporter = {
  kind: OGP_LOCAL_KIND,
  description:
    'the OGP Local members file (JSON of data/datasets/ogp-local): members (administrative units), their councils, action plans and commitments, and the organizations it describes',
  part: () => ogpLocalPlansPart(),
};
