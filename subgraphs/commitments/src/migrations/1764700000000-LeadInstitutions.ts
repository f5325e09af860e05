import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col, setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';

const KEYS: KeyColumn[] = [
  { table: 'commitment_co_lead_organizations', column: 'commitment_id', length: 64, nullable: false },
  { table: 'commitment_co_lead_organizations', column: 'organization_id', length: 191, nullable: false },
];

/**
 * Every lead institution the source names: the lead and supporting cells as written (`lead_institution_text`,
 * `supporting_institutions_text`, verbatim), and
 * the leads after the first (`commitment_co_lead_organizations`, in cell order; the first stays
 * `lead_organization_id`). Keys compare by code point on MySQL, as in BinaryKeys.
 */
export class LeadInstitutions1764700000000 implements MigrationInterface {
  name = 'LeadInstitutions1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('commitments', new TableColumn(col.text('lead_institution_text', true)));
    await q.addColumn('commitments', new TableColumn(col.text('supporting_institutions_text', true)));
    await q.createTable(
      new Table({
        name: 'commitment_co_lead_organizations',
        columns: [col.key('commitment_id', 64), col.key('organization_id', 191), col.int('position')],
        indices: [new TableIndex({ name: 'IDX_commitment_co_leads_org', columnNames: ['organization_id'] })],
      }),
    );
    await setKeyCollation(q, KEYS, 'binary');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('commitment_co_lead_organizations');
    await q.dropColumn('commitments', 'supporting_institutions_text');
    await q.dropColumn('commitments', 'lead_institution_text');
  }
}
