import type { MigrationInterface, QueryRunner } from 'typeorm';
import { setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';

const KEYS: KeyColumn[] = [
  { table: 'organizations', column: 'id', length: 191, nullable: false },
  { table: 'organizations', column: 'parent_id', length: 191, nullable: true },
  { table: 'organization_identifiers', column: 'organization_id', length: 191, nullable: false },
];

/** Ids compare by code point on MySQL too, so pages are the same as on SQLite (see setKeyCollation). */
export class BinaryKeys1764100000000 implements MigrationInterface {
  name = 'BinaryKeys1764100000000';
  up = (q: QueryRunner) => setKeyCollation(q, KEYS, 'binary');
  down = (q: QueryRunner) => setKeyCollation(q, KEYS, 'default');
}
