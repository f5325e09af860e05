import type { Logger } from 'typeorm';
import type { StorageConfig } from '@civic/common/config';
import { createDataSource } from '@civic/common/db';
import { DataVersionEntity } from '@civic/common/data-version';
import { ImportRunEntity } from '@civic/common/import/runs';
import { SearchDocumentEntity } from '@civic/common/search';
import { OrganizationEntity } from './entities/Organization';
import { OrganizationIdentifierEntity } from './entities/OrganizationIdentifier';
import { CreateOrganizations1764000000000 } from './migrations/1764000000000-CreateOrganizations';
import { BinaryKeys1764100000000 } from './migrations/1764100000000-BinaryKeys';
import { Search1764300000000 } from './migrations/1764300000000-Search';
import { Imports1764400000000 } from './migrations/1764400000000-Imports';
import { SourceAdjustments1764600000000 } from './migrations/1764600000000-SourceAdjustments';
import { SearchStatistics1764800000000 } from './migrations/1764800000000-SearchStatistics';
import { DataVersions1796605037203 } from './migrations/1796605037203-DataVersions';
import { SearchScope1796650000000 } from './migrations/1796650000000-SearchScope';

export const entities = [
  OrganizationEntity,
  OrganizationIdentifierEntity,
  SearchDocumentEntity,
  ImportRunEntity,
  DataVersionEntity,
];
export const migrations = [
  CreateOrganizations1764000000000,
  BinaryKeys1764100000000,
  Search1764300000000,
  Imports1764400000000,
  SourceAdjustments1764600000000,
  SearchStatistics1764800000000,
  DataVersions1796605037203,
  SearchScope1796650000000,
];

/** The organizations subgraph's only DataSource: the tables it owns. */
export const createOrganizationsDataSource = (storage: StorageConfig, logger?: Logger) =>
  createDataSource({ storage, entities, migrations, logger });
