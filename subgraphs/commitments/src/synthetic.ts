import { writeData } from '@civic/common/data-version';
import type { DataSource } from 'typeorm';
import { indexDocuments, rebuildSearchIndex, SEARCH_TABLE } from '@civic/common/search';
import {
  insertAll,
  phrase,
  prng,
  SYNTHETIC_DATASET,
  syntheticActionPlanId,
  syntheticCommitmentId,
  syntheticOrganizationId,
  syntheticOrganizationNames,
  syntheticSizes,
  syntheticSource,
  type Prng,
} from '@civic/formats/synthetic';
import {
  COMPLETION,
  DID_IT_OPEN_GOVERNMENT,
  OGP_VALUES,
  POTENTIAL_IMPACT,
  SPECIFICITY,
} from '@civic/formats/vocabulary';
import { ActionPlanEntity, type ActionPlan } from './entities/ActionPlan';
import { CommitmentEntity, type Commitment } from './entities/Commitment';
import {
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
  type CommitmentOgpValue,
  type CommitmentPolicyArea,
  type CommitmentSupporter,
} from './entities/CommitmentLinks';
import {
  ACTION_PLAN_SEARCH_TYPE,
  actionPlanDocuments,
  COMMITMENT_SEARCH_TYPE,
  commitmentDocuments,
} from './search';
import { settleSearchStatistics } from '@civic/common/search';
import { refreshCommitmentStats } from './stats';

const COUNTRIES = ['MA', 'TN', 'FR', 'SN', 'JO', 'ID', 'KE', 'BR', 'PH', 'UA'];
const THEMES = [
  'Open budgets',
  'Access to information',
  'Anti-corruption',
  'Public service delivery',
  'Open data',
];
const AREAS = [
  'Fiscal Openness',
  'Open Data',
  'Audits',
  'Public Procurement',
  'Right To Information',
  'Gender',
  'Youth',
  'Health & Nutrition',
];
const CHUNK = 5000;

/** A value of an IRM scale, or null as often as the real export leaves it unassessed. */
const scale = <T>(r: Prng, values: readonly T[]) => (r.chance(0.35) ? null : r.pick(values));

/**
 * Replaces the synthetic action plans and commitments (and only them) for this scale and seed, with their
 * search index; members, lead and supporting institutions are synthetic organizations, referred to by their
 * stable ids.
 */
export async function generateCommitments(ds: DataSource, scaleN: number, seed: number): Promise<number> {
  const sizes = syntheticSizes(scaleN);
  const r = prng(seed ^ 0x0c0c);
  const orgIndex = () => r.int(0, sizes.organizations - 1);
  const org = () => syntheticOrganizationId(orgIndex());
  // The same names the organizations generator gives (English first, as the OGP export's names are).
  const nameOf = (i: number) => {
    const n = syntheticOrganizationNames(i, seed);
    return n.en ?? n.fr;
  };
  await writeData(ds, 'commitments', async (m) => {
    for (const t of [
      'commitment_ogp_values',
      'commitment_policy_areas',
      'commitment_supporting_organizations',
    ]) {
      await m.query(`DELETE FROM ${t} WHERE commitment_id LIKE 'syn-%'`);
    }
    await m.getRepository(CommitmentEntity).delete({ sourceDataset: SYNTHETIC_DATASET });
    await m.getRepository(ActionPlanEntity).delete({ sourceDataset: SYNTHETIC_DATASET });
    // The old synthetic rows' index goes in one statement (a previous run may have been at another scale,
    // so their ids are not known here). Rows deleted from search_documents directly stay in SQLite's FTS5
    // copy until it is rebuilt: rebuilt now, while it holds only the real rows, in this transaction.
    await m.query(`DELETE FROM ${SEARCH_TABLE} WHERE entity_type IN (?, ?) AND entity_id LIKE 'syn-%'`, [
      COMMITMENT_SEARCH_TYPE,
      ACTION_PLAN_SEARCH_TYPE,
    ]);
    await rebuildSearchIndex(m);
    const plans: ActionPlan[] = [];
    for (let i = 0; i < sizes.actionPlans; i++) {
      const start = r.int(2011, 2024);
      const member = orgIndex();
      plans.push({
        id: syntheticActionPlanId(i),
        memberId: syntheticOrganizationId(member),
        memberName: nameOf(member),
        country: r.pick(COUNTRIES),
        number: r.int(1, 6),
        startYear: start,
        endYear: start + r.int(1, 4),
        submittedOn: String(start),
        ...syntheticSource(scaleN, seed, `action plan ${i}`),
      });
    }
    await insertAll(m, ActionPlanEntity, plans);
    await indexDocuments(m, actionPlanDocuments(plans));
    for (let begin = 0; begin < sizes.commitments; begin += CHUNK) {
      const rows: Commitment[] = [];
      const supporters: CommitmentSupporter[] = [];
      const areas: CommitmentPolicyArea[] = [];
      const values: CommitmentOgpValue[] = [];
      for (let i = begin; i < Math.min(sizes.commitments, begin + CHUNK); i++) {
        const id = syntheticCommitmentId(i);
        const plan = plans[i % plans.length];
        const year = r.int(plan.startYear ?? 2011, plan.endYear ?? 2025);
        const leadIndex = r.chance(0.9) ? orgIndex() : null;
        const lead = leadIndex === null ? null : syntheticOrganizationId(leadIndex);
        rows.push({
          id,
          actionPlanId: plan.id,
          title: phrase(r, 'en', 6),
          titleAr: null,
          titleFr: r.chance(0.3) ? phrase(r, 'fr', 6) : null,
          titleEn: null,
          titleEs: null,
          shortTitle: phrase(r, 'en', 3),
          description: phrase(r, r.chance(0.8) ? 'en' : 'fr', 40),
          theme: r.pick(THEMES),
          leadOrganizationId: lead,
          leadOrganizationName: leadIndex === null ? null : nameOf(leadIndex),
          leadInstitutionText: leadIndex === null ? null : nameOf(leadIndex),
          supportingInstitutionsText: null,
          startDate: `${year}-${String(r.int(1, 12)).padStart(2, '0')}-01`,
          endDate: String(year + r.int(1, 3)),
          startDateText: null,
          endDateText: null,
          specificity: scale(r, SPECIFICITY),
          verifiable: r.chance(0.3) ? null : r.chance(0.85),
          potentialImpact: scale(r, POTENTIAL_IMPACT),
          completionMidterm: scale(r, COMPLETION),
          completionEndOfTerm: scale(r, COMPLETION),
          didItOpenGovernment: scale(r, DID_IT_OPEN_GOVERNMENT),
          ...syntheticSource(scaleN, seed, `commitment ${i}`),
        });
        const seen = new Set<string>(lead ? [lead] : []);
        for (let s = r.int(0, 3), pos = 1; s > 0; s--) {
          const o = org();
          if (seen.has(o)) continue;
          seen.add(o);
          supporters.push({ commitmentId: id, organizationId: o, position: pos++ });
        }
        for (const a of new Set([r.pick(AREAS), r.pick(AREAS)]))
          areas.push({ commitmentId: id, policyArea: a });
        for (const v of OGP_VALUES) if (r.chance(0.3)) values.push({ commitmentId: id, value: v });
      }
      await insertAll(m, CommitmentEntity, rows, 200);
      await insertAll(m, CommitmentSupporterEntity, supporters);
      await insertAll(m, CommitmentPolicyAreaEntity, areas);
      await insertAll(m, CommitmentOgpValueEntity, values);
      await indexDocuments(m, commitmentDocuments(rows));
    }
    // The stored counts (stats.ts), once every commitment is written, in this transaction.
    await refreshCommitmentStats(m);
  });
  await settleSearchStatistics(ds);
  return sizes.commitments;
}
