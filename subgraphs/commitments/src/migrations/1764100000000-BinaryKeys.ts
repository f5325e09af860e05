import type { MigrationInterface, QueryRunner } from 'typeorm';
import { setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';

const KEYS: KeyColumn[] = [
  { table: 'action_plans', column: 'id', length: 64, nullable: false },
  { table: 'action_plans', column: 'member_id', length: 191, nullable: false },
  { table: 'commitments', column: 'id', length: 64, nullable: false },
  { table: 'commitments', column: 'action_plan_id', length: 64, nullable: false },
  { table: 'commitments', column: 'lead_organization_id', length: 191, nullable: true },
  { table: 'commitment_supporting_organizations', column: 'commitment_id', length: 64, nullable: false },
  { table: 'commitment_supporting_organizations', column: 'organization_id', length: 191, nullable: false },
  { table: 'commitment_policy_areas', column: 'commitment_id', length: 64, nullable: false },
  { table: 'commitment_ogp_values', column: 'commitment_id', length: 64, nullable: false },
];

/** Ids compare by code point on MySQL too, so pages are the same as on SQLite (see setKeyCollation). */
export class BinaryKeys1764100000000 implements MigrationInterface {
  name = 'BinaryKeys1764100000000';
  up = (q: QueryRunner) => setKeyCollation(q, KEYS, 'binary');
  down = (q: QueryRunner) => setKeyCollation(q, KEYS, 'default');
}
