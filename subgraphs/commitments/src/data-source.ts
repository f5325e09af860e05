import type { Logger } from 'typeorm';
import type { StorageConfig } from '@civic/common/config';
import { createDataSource } from '@civic/common/db';
import { DataVersionEntity } from '@civic/common/data-version';
import { ImportRunEntity } from '@civic/common/import/runs';
import { SearchDocumentEntity } from '@civic/common/search';
import { ActionPlanEntity } from './entities/ActionPlan';
import { CommitmentEntity } from './entities/Commitment';
import {
  CommitmentCoLeadEntity,
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
} from './entities/CommitmentLinks';
import { CreateCommitments1764000000000 } from './migrations/1764000000000-CreateCommitments';
import { BinaryKeys1764100000000 } from './migrations/1764100000000-BinaryKeys';
import { SourceNamesAndDates1764200000000 } from './migrations/1764200000000-SourceNamesAndDates';
import { Search1764300000000 } from './migrations/1764300000000-Search';
import { Imports1764400000000 } from './migrations/1764400000000-Imports';
import { SourceAdjustments1764600000000 } from './migrations/1764600000000-SourceAdjustments';
import { LeadInstitutions1764700000000 } from './migrations/1764700000000-LeadInstitutions';
import { SearchStatistics1764800000000 } from './migrations/1764800000000-SearchStatistics';
import { DataVersions1796605037203 } from './migrations/1796605037203-DataVersions';
import { CommitmentStats1796605840252 } from './migrations/1796605840252-CommitmentStats';
import { SearchScope1796650000000 } from './migrations/1796650000000-SearchScope';

export const entities = [
  ActionPlanEntity,
  CommitmentEntity,
  CommitmentSupporterEntity,
  CommitmentPolicyAreaEntity,
  CommitmentOgpValueEntity,
  CommitmentCoLeadEntity,
  SearchDocumentEntity,
  ImportRunEntity,
  DataVersionEntity,
];
export const migrations = [
  CreateCommitments1764000000000,
  BinaryKeys1764100000000,
  SourceNamesAndDates1764200000000,
  Search1764300000000,
  Imports1764400000000,
  SourceAdjustments1764600000000,
  LeadInstitutions1764700000000,
  SearchStatistics1764800000000,
  DataVersions1796605037203,
  CommitmentStats1796605840252,
  SearchScope1796650000000,
];

/** The commitments subgraph's only DataSource: the tables it owns. */
export const createCommitmentsDataSource = (storage: StorageConfig, logger?: Logger) =>
  createDataSource({ storage, entities, migrations, logger });
