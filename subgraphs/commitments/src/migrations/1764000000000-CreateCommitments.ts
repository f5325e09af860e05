import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col } from '@civic/common/migration-columns';

export class CreateCommitments1764000000000 implements MigrationInterface {
  name = 'CreateCommitments1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'action_plans',
        columns: [
          col.key('id', 64),
          col.varchar('member_id', 191),
          col.varchar('country', 2, true),
          col.int('number', true),
          col.int('start_year', true),
          col.int('end_year', true),
          col.varchar('submitted_on', 10, true),
          ...col.provenance(),
        ],
        indices: [
          new TableIndex({ name: 'IDX_action_plans_member', columnNames: ['member_id'] }),
          new TableIndex({ name: 'IDX_action_plans_country', columnNames: ['country'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'commitments',
        columns: [
          col.key('id', 64),
          col.varchar('action_plan_id', 64),
          col.text('title'),
          col.text('title_ar', true),
          col.text('title_fr', true),
          col.text('title_en', true),
          col.text('title_es', true),
          col.text('short_title', true),
          col.text('description', true),
          col.varchar('theme', 255, true),
          col.varchar('lead_organization_id', 191, true),
          col.varchar('start_date', 10, true),
          col.varchar('end_date', 10, true),
          col.varchar('start_date_text', 255, true),
          col.varchar('end_date_text', 255, true),
          col.varchar('specificity', 32, true),
          col.boolean('verifiable', true),
          col.varchar('potential_impact', 32, true),
          col.varchar('completion_midterm', 32, true),
          col.varchar('completion_end_of_term', 32, true),
          col.varchar('did_it_open_government', 32, true),
          ...col.provenance(),
        ],
        indices: [
          new TableIndex({ name: 'IDX_commitments_action_plan', columnNames: ['action_plan_id'] }),
          new TableIndex({ name: 'IDX_commitments_lead', columnNames: ['lead_organization_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'commitment_supporting_organizations',
        columns: [col.key('commitment_id', 64), col.key('organization_id', 191), col.int('position')],
        indices: [
          new TableIndex({ name: 'IDX_commitment_supporters_org', columnNames: ['organization_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'commitment_policy_areas',
        columns: [col.key('commitment_id', 64), col.key('policy_area', 128)],
        indices: [new TableIndex({ name: 'IDX_commitment_policy_areas_area', columnNames: ['policy_area'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'commitment_ogp_values',
        columns: [col.key('commitment_id', 64), col.key('value', 32)],
        indices: [new TableIndex({ name: 'IDX_commitment_ogp_values_value', columnNames: ['value'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'commitment_ogp_values',
      'commitment_policy_areas',
      'commitment_supporting_organizations',
      'commitments',
      'action_plans',
    ]) {
      await q.dropTable(t);
    }
  }
}
