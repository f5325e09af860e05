import { EntitySchema } from 'typeorm';
import { provenanceColumns, type WithProvenance } from '@civic/common/provenance';

import type {
  Completion,
  DidItOpenGovernment,
  PotentialImpact,
  Specificity,
} from '@civic/formats/vocabulary';

export {
  COMPLETION,
  DID_IT_OPEN_GOVERNMENT,
  OGP_VALUES,
  POTENTIAL_IMPACT,
  SPECIFICITY,
  type OgpValue,
} from '@civic/formats/vocabulary';

/** A commitment in an OGP action plan. */
export interface Commitment extends WithProvenance {
  /** The OGP identifier, e.g. "MO0012". */
  id: string;
  actionPlanId: string;
  /** The title as the source gives it, in the source's language. */
  title: string;
  titleAr: string | null;
  titleFr: string | null;
  titleEn: string | null;
  titleEs: string | null;
  shortTitle: string | null;
  description: string | null;
  theme: string | null;
  /**
   * Organization id of the lead institution (owned by the organizations subgraph): the first the source's lead
   * cell names; the others are CommitmentCoLead rows (entities/CommitmentLinks.ts).
   */
  leadOrganizationId: string | null;
  /**
   * The lead institution's name as this commitment's row writes it (rows may spell one institution
   * differently): labels groups by lead organization without asking the organizations subgraph. Optional for
   * rows built from sources that name no lead (stored as NULL).
   */
  leadOrganizationName: string | null;
  /**
   * The source's lead cell exactly as written (the OGP export's "Lead Institution", untrimmed); null for an
   * empty cell or a missing-value marker (NA, ND, ...), and for sources without one.
   */
  leadInstitutionText: string | null;
  /** The source's supporting-institutions cell exactly as written; null when empty, a marker, or none. */
  supportingInstitutionsText: string | null;
  /** ISO 8601, possibly reduced precision; null where the source date could not be read. */
  startDate: string | null;
  endDate: string | null;
  /** The dates exactly as the source wrote them. */
  startDateText: string | null;
  endDateText: string | null;
  specificity: Specificity | null;
  verifiable: boolean | null;
  potentialImpact: PotentialImpact | null;
  completionMidterm: Completion | null;
  completionEndOfTerm: Completion | null;
  didItOpenGovernment: DidItOpenGovernment | null;
}

export const CommitmentEntity = new EntitySchema<Commitment>({
  name: 'Commitment',
  tableName: 'commitments',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    actionPlanId: { type: 'varchar', length: 64, name: 'action_plan_id' },
    title: { type: 'text' },
    titleAr: { type: 'text', name: 'title_ar', nullable: true },
    titleFr: { type: 'text', name: 'title_fr', nullable: true },
    titleEn: { type: 'text', name: 'title_en', nullable: true },
    titleEs: { type: 'text', name: 'title_es', nullable: true },
    shortTitle: { type: 'text', name: 'short_title', nullable: true },
    description: { type: 'text', nullable: true },
    theme: { type: 'varchar', length: 255, nullable: true },
    leadOrganizationId: { type: 'varchar', length: 191, name: 'lead_organization_id', nullable: true },
    leadOrganizationName: { type: 'varchar', length: 255, name: 'lead_organization_name', nullable: true },
    leadInstitutionText: { type: 'text', name: 'lead_institution_text', nullable: true },
    supportingInstitutionsText: { type: 'text', name: 'supporting_institutions_text', nullable: true },
    startDate: { type: 'varchar', length: 10, name: 'start_date', nullable: true },
    endDate: { type: 'varchar', length: 10, name: 'end_date', nullable: true },
    startDateText: { type: 'varchar', length: 255, name: 'start_date_text', nullable: true },
    endDateText: { type: 'varchar', length: 255, name: 'end_date_text', nullable: true },
    specificity: { type: 'varchar', length: 32, nullable: true },
    verifiable: { type: 'boolean', nullable: true },
    potentialImpact: { type: 'varchar', length: 32, name: 'potential_impact', nullable: true },
    completionMidterm: { type: 'varchar', length: 32, name: 'completion_midterm', nullable: true },
    completionEndOfTerm: { type: 'varchar', length: 32, name: 'completion_end_of_term', nullable: true },
    didItOpenGovernment: { type: 'varchar', length: 32, name: 'did_it_open_government', nullable: true },
    ...provenanceColumns,
  },
  indices: [
    { name: 'IDX_commitments_action_plan', columns: ['actionPlanId'] },
    { name: 'IDX_commitments_lead', columns: ['leadOrganizationId'] },
    { name: 'IDX_commitments_start_date', columns: ['startDate'] },
    { name: 'IDX_commitments_end_date', columns: ['endDate'] },
  ],
});
