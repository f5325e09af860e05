import type { OgpExportRow } from '@civic/formats/ogp-export';
import type { WithProvenance } from '@civic/common/provenance';
import { SOURCES } from '@civic/formats/sources';
import type { ActionPlan } from '../entities/ActionPlan';
import type { Commitment } from '../entities/Commitment';
import type {
  CommitmentCoLead,
  CommitmentOgpValue,
  CommitmentPolicyArea,
  CommitmentSupporter,
} from '../entities/CommitmentLinks';

/*
 * What a row of the OGP commitments export says about action plans and commitments, as records of this
 * subgraph (without provenance): what the `ogp-commitments` importer writes.
 */

/** The IRM assessment of a commitment no IRM report covers: every field unknown. */
export const EMPTY_ASSESSMENT = {
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
    // The first institution the lead cell names; the others are co-leads (exportCommitmentLinks).
    leadOrganizationId: row.lead?.id ?? null,
    // The lead's name as this row writes it: one id covers spellings differing in case, accents, punctuation.
    leadOrganizationName: row.lead?.name ?? null,
    // The cell itself, verbatim: what a reader compares the leads with.
    leadInstitutionText: row.leadInstitutionText,
    // Likewise the supporting cell: what supportingOrganizations was read from.
    supportingInstitutionsText: row.supportingInstitutionsText,
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

/** A commitment row's further lead institutions, supporting institutions, policy areas and OGP values. */
export function exportCommitmentLinks(row: OgpExportRow): {
  coLeads: CommitmentCoLead[];
  supporters: CommitmentSupporter[];
  policyAreas: CommitmentPolicyArea[];
  ogpValues: CommitmentOgpValue[];
} {
  return {
    // The lead cell's names after the first, at their place in the cell (2 for the second).
    coLeads: row.leads
      .slice(1)
      .map((l, i) => ({ commitmentId: row.id, organizationId: l.id, position: i + 2 })),
    // Positions start at 1, in the order the supporting cell lists the names.
    supporters: row.supporters.map((s, i) => ({
      commitmentId: row.id,
      organizationId: s.id,
      position: i + 1,
    })),
    policyAreas: row.policyAreas.map((policyArea) => ({ commitmentId: row.id, policyArea })),
    ogpValues: row.ogpValues.map((value) => ({ commitmentId: row.id, value })),
  };
}
