import { EntitySchema } from 'typeorm';
import { provenanceColumns, type WithProvenance } from '@civic/common/provenance';

/** An OGP action plan of a member (national or local). */
export interface ActionPlan extends WithProvenance {
  id: string;
  /** Organization id of the OGP member (owned by the organizations subgraph). */
  memberId: string;
  /** ISO 3166-1 alpha-2 of the member, as the source gives it; lets this subgraph filter by country on its own. */
  country: string | null;
  number: number | null;
  startYear: number | null;
  endYear: number | null;
  /** ISO 8601, possibly reduced precision ("2018") where only the year is known. */
  submittedOn: string | null;
  /**
   * The member's name as the source writes it (the export's "Country/Locality", the OGP Local file's name):
   * lets this subgraph label groups of commitments by member without asking the organizations subgraph.
   * Optional for rows built from sources that name no member (stored as NULL).
   */
  memberName: string | null;
}

export const ActionPlanEntity = new EntitySchema<ActionPlan>({
  name: 'ActionPlan',
  tableName: 'action_plans',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    memberId: { type: 'varchar', length: 191, name: 'member_id' },
    country: { type: 'varchar', length: 2, nullable: true },
    number: { type: 'integer', nullable: true },
    startYear: { type: 'integer', name: 'start_year', nullable: true },
    endYear: { type: 'integer', name: 'end_year', nullable: true },
    submittedOn: { type: 'varchar', length: 10, name: 'submitted_on', nullable: true },
    memberName: { type: 'varchar', length: 255, name: 'member_name', nullable: true },
    ...provenanceColumns,
  },
  indices: [
    { name: 'IDX_action_plans_member', columns: ['memberId'] },
    { name: 'IDX_action_plans_country', columns: ['country'] },
  ],
});
