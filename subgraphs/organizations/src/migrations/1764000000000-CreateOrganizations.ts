import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col } from '@civic/common/migration-columns';

export class CreateOrganizations1764000000000 implements MigrationInterface {
  name = 'CreateOrganizations1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organizations',
        columns: [
          col.key('id', 191),
          col.varchar('kind', 32),
          col.varchar('classification', 64, true),
          col.varchar('country', 2, true),
          col.varchar('parent_id', 191, true),
          ...col.localized('name'),
          col.varchar('ogp_membership_type', 16, true),
          col.varchar('ogp_joined', 10, true),
          ...col.provenance(),
        ],
        indices: [
          new TableIndex({ name: 'IDX_organizations_parent', columnNames: ['parent_id'] }),
          new TableIndex({ name: 'IDX_organizations_country_kind', columnNames: ['country', 'kind'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'organization_identifiers',
        columns: [col.key('organization_id', 191), col.key('scheme', 64), col.key('value', 191)],
        indices: [
          new TableIndex({
            name: 'IDX_organization_identifiers_scheme_value',
            columnNames: ['scheme', 'value'],
          }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('organization_identifiers');
    await q.dropTable('organizations');
  }
}
