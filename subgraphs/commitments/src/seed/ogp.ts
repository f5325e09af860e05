import { readOgpExport, readOgpLocal, type OgpExportRow } from '../../../../common/src/datasets/ogp-export';
import { fromSource, type WithProvenance } from '../../../../common/src/provenance';
import { emptyReport, type SeedReport } from '../../../../common/src/seed';
import { DATASETS_DIR, SOURCES, datasetPath } from '../../../../common/src/sources';
import type { ActionPlan } from '../entities/ActionPlan';
import type { Commitment } from '../entities/Commitment';
import type {
  CommitmentOgpValue,
  CommitmentPolicyArea,
  CommitmentSupporter,
} from '../entities/CommitmentLinks';
import type { CommitmentsSeed } from './types';

function seedOf(report: SeedReport, seed: Omit<CommitmentsSeed, 'report'>): CommitmentsSeed {
  report.loaded = {
    action_plans: seed.actionPlans.length,
    commitments: seed.commitments.length,
    commitment_supporting_organizations: seed.supporters.length,
    commitment_policy_areas: seed.policyAreas.length,
    commitment_ogp_values: seed.ogpValues.length,
  };
  return { ...seed, report };
}

/** A commitment with every field the sources leave unknown set to null. */
const EMPTY_ASSESSMENT = {
  specificity: null,
  verifiable: null,
  potentialImpact: null,
  completionMidterm: null,
  completionEndOfTerm: null,
  didItOpenGovernment: null,
} as const;

/** The action-plan fields every commitment row of the export repeats (the first row naming a plan decides). */
export const EXPORT_PLAN_FIELDS = [
  'memberId',
  'country',
  'number',
  'startYear',
  'endYear',
  'memberName',
] as const;

/** An action plan as one export row describes it (the plan of the row's commitment), without provenance. */
export function exportActionPlan(row: OgpExportRow): Omit<ActionPlan, keyof WithProvenance> {
  return {
    id: row.actionPlanId,
    memberId: row.member.id,
    country: row.member.country,
    number: row.actionPlanNumber,
    startYear: row.yearOfSubmission,
    endYear: row.actionPlanEndYear,
    // The export gives the year of submission only: a reduced-precision ISO 8601 date.
    submittedOn: row.yearOfSubmission === null ? null : String(row.yearOfSubmission),
    // "Country/Locality" as written ("Morocco", "Kaduna State, Nigeria"): the label of member groups.
    memberName: row.member.name || null,
  };
}

/** The commitment of one export row, without provenance. */
export function exportCommitment(row: OgpExportRow): Omit<Commitment, keyof WithProvenance> {
  return {
    id: row.id,
    actionPlanId: row.actionPlanId,
    title: row.title,
    // The export has one title, in the language of the action plan, with no language tag.
    titleAr: null,
    titleFr: null,
    titleEn: null,
    titleEs: null,
    shortTitle: row.shortTitle,
    description: row.description,
    theme: row.theme,
    leadOrganizationId: row.lead?.id ?? null,
    // The lead's name as this row writes it: one id covers spellings differing in case, accents, punctuation.
    leadOrganizationName: row.lead?.name ?? null,
    startDate: row.startDate.iso,
    endDate: row.endDate.iso,
    startDateText: row.startDate.text,
    endDateText: row.endDate.text,
    specificity: row.specificity,
    verifiable: row.verifiable,
    potentialImpact: row.potentialImpact,
    completionMidterm: row.completionMidterm,
    completionEndOfTerm: row.completionEndOfTerm,
    didItOpenGovernment: row.didItOpenGovernment,
  };
}

/** What a commitment row of the export cites: the dataset, with the commitment's own page when the row has it. */
export const exportCommitmentSource = (row: OgpExportRow) => ({
  ...SOURCES.ogpCommitments,
  url: row.url ?? SOURCES.ogpCommitments.url,
});

/** A commitment row's supporting institutions, policy areas and OGP values. */
export function exportCommitmentLinks(row: OgpExportRow): {
  supporters: CommitmentSupporter[];
  policyAreas: CommitmentPolicyArea[];
  ogpValues: CommitmentOgpValue[];
} {
  return {
    // Positions start at 1, in the order the cells list the names (extra lead names first).
    supporters: row.supporters.map((s, i) => ({
      commitmentId: row.id,
      organizationId: s.id,
      position: i + 1,
    })),
    policyAreas: row.policyAreas.map((policyArea) => ({ commitmentId: row.id, policyArea })),
    ogpValues: row.ogpValues.map((value) => ({ commitmentId: row.id, value })),
  };
}

/**
 * The OGP commitments export: action plans (one per "Action Plan ID", e.g. AP_MAR01), commitments, their
 * supporting institutions, policy areas and OGP values. Organization ids (members, lead and supporting
 * institutions) are computed by the shared reader exactly as the organizations subgraph computes them.
 * Rows are built by the same functions as the `ogp-commitments` importer's (src/import/ogp-commitments.ts).
 */
function fromExport(dir: string): CommitmentsSeed {
  const source = SOURCES.ogpCommitments;
  const report = emptyReport(source.dataset);
  const data = readOgpExport(datasetPath(source.file, dir));
  report.refused.push(...data.refused);
  report.warnings.push(...data.warnings.map(({ record, message }) => ({ record, message })));

  const actionPlans = new Map<string, ActionPlan>();
  const commitments: Commitment[] = [];
  const supporters: CommitmentSupporter[] = [];
  const policyAreas: CommitmentPolicyArea[] = [];
  const ogpValues: CommitmentOgpValue[] = [];

  for (const row of data.rows) {
    const plan: ActionPlan = { ...exportActionPlan(row), ...fromSource(source, row.actionPlanId) };
    const known = actionPlans.get(plan.id);
    if (!known) actionPlans.set(plan.id, plan);
    else {
      // Plan fields are repeated on every commitment row: the first row decides, a disagreement is reported.
      for (const field of EXPORT_PLAN_FIELDS) {
        if (known[field] !== plan[field]) {
          report.warnings.push({
            record: plan.id,
            message: `${row.id} gives ${field} ${plan[field]}, an earlier commitment of the plan ${known[field]}; kept ${known[field]}`,
          });
        }
      }
    }

    commitments.push({ ...exportCommitment(row), ...fromSource(exportCommitmentSource(row), row.id) });
    const links = exportCommitmentLinks(row);
    supporters.push(...links.supporters);
    policyAreas.push(...links.policyAreas);
    ogpValues.push(...links.ogpValues);
  }
  return seedOf(report, {
    actionPlans: [...actionPlans.values()],
    commitments,
    supporters,
    policyAreas,
    ogpValues,
  });
}

/** "2027-06" → 2027; null when the text does not start with a year. */
const yearOf = (text: string | undefined): number | null => {
  const m = text ? /^(\d{4})/.exec(text) : null;
  return m ? Number(m[1]) : null;
};

/**
 * The OGP Local members file: one action plan per plan the file lists (`ogpl-el-kef-2021`), whose member is
 * the administrative unit (`tn-municipality-33011`), and El Kef's four commitments the OGP article
 * describes. The file says nothing else about them: no lead institution, no dates, no assessment, and
 * those stay null.
 */
function fromLocalFile(dir: string): CommitmentsSeed {
  const report = emptyReport(SOURCES.ogpLocal.dataset);
  const local = readOgpLocal(dir);
  report.refused.push(...local.refused);
  report.warnings.push(...local.warnings.map(({ record, message }) => ({ record, message })));
  const provenance = (sourceKey: string, record: string) => {
    const named = local.file.sources[sourceKey];
    return fromSource(
      {
        dataset: SOURCES.ogpLocal.dataset,
        url: named?.url ?? SOURCES.ogpLocal.url,
        license: named?.license ?? SOURCES.ogpLocal.license,
      },
      record,
    );
  };

  const actionPlans: ActionPlan[] = [];
  const commitments: Commitment[] = [];
  for (const { record: m, id: memberId } of local.members) {
    (m.actionPlans ?? []).forEach((p, index) => {
      const planId = `ogpl-${m.key}-${p.period.start}`;
      const where = `${m.key}.actionPlans[${index}]`;
      actionPlans.push({
        id: planId,
        memberId,
        country: m.country,
        // OGP numbers national plans; the file gives no number for these local plans.
        number: null,
        startYear: yearOf(p.period.start),
        endYear: yearOf(p.period.end),
        submittedOn: p.submitted ?? null,
        // The file names the member in several languages; English first, as the export names its members.
        memberName: m.names.en ?? m.names.fr ?? m.names.ar ?? m.names.es ?? null,
        ...provenance(p.source, where),
      });
      (p.commitmentsDescribed ?? []).forEach((c, i) => {
        const title = c.names.fr ?? c.names.en;
        if (!title) {
          report.refused.push({ record: `${where}.commitmentsDescribed[${i}]`, reason: 'no name' });
          return;
        }
        commitments.push({
          // These commitments have no OGP identifier (the article describes them, OGP's pages list 17
          // without saying which these are): the id is the plan's id and the order in the file.
          id: `${planId}-${String(i + 1).padStart(2, '0')}`,
          actionPlanId: planId,
          // The article the names come from is French: the French name is the title as the source gives it.
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
          startDate: null,
          endDate: null,
          startDateText: null,
          endDateText: null,
          ...EMPTY_ASSESSMENT,
          ...provenance(c.source, `${where}.commitmentsDescribed[${i}]`),
        });
      });
    });
  }
  return seedOf(report, { actionPlans, commitments, supporters: [], policyAreas: [], ogpValues: [] });
}

/**
 * Action plans and commitments from the two OGP files, as two seeds: (a) the commitments export, (b) the
 * OGP Local members file. Pure: reads the files under `dir`, never the database.
 */
export function buildOgpCommitments(dir: string = DATASETS_DIR): CommitmentsSeed[] {
  return [fromExport(dir), fromLocalFile(dir)];
}
