import type { Logger } from 'typeorm';
import type { StorageConfig } from '@civic/common/config';
import { createDataSource } from '@civic/common/db';
import { DataVersionEntity } from '@civic/common/data-version';
import { ImportRunEntity } from '@civic/common/import/runs';
import { SearchDocumentEntity } from '@civic/common/search';
import {
  BudgetAmountEntity,
  BudgetCodeEntity,
  BudgetEntity,
  BudgetLineDimensionEntity,
  BudgetLineEntity,
  CommitmentBudgetLineEntity,
} from './entities/Budget';
import { CreateBudgets1764000000000 } from './migrations/1764000000000-CreateBudgets';
import { BinaryKeys1764100000000 } from './migrations/1764100000000-BinaryKeys';
import { BudgetQueries1764200000000 } from './migrations/1764200000000-BudgetQueries';
import { Search1764300000000 } from './migrations/1764300000000-Search';
import { Imports1764400000000 } from './migrations/1764400000000-Imports';
import { AmountSourcesAndLinks1764500000000 } from './migrations/1764500000000-AmountSourcesAndLinks';
import { SourceAdjustments1764600000000 } from './migrations/1764600000000-SourceAdjustments';
import { SearchStatistics1764800000000 } from './migrations/1764800000000-SearchStatistics';
import { BudgetFacts1764900000000 } from './migrations/1764900000000-BudgetFacts';
import { DataVersions1796605037203 } from './migrations/1796605037203-DataVersions';
import { SummaryAggregates1796605040319 } from './migrations/1796605040319-SummaryAggregates';
import { SearchScope1796650000000 } from './migrations/1796650000000-SearchScope';
import { LineSearchDocuments1796660000000 } from './migrations/1796660000000-LineSearchDocuments';

export const entities = [
  BudgetEntity,
  BudgetLineEntity,
  BudgetAmountEntity,
  CommitmentBudgetLineEntity,
  BudgetLineDimensionEntity,
  BudgetCodeEntity,
  SearchDocumentEntity,
  ImportRunEntity,
  DataVersionEntity,
];
export const migrations = [
  CreateBudgets1764000000000,
  BinaryKeys1764100000000,
  BudgetQueries1764200000000,
  Search1764300000000,
  Imports1764400000000,
  AmountSourcesAndLinks1764500000000,
  SourceAdjustments1764600000000,
  SearchStatistics1764800000000,
  BudgetFacts1764900000000,
  DataVersions1796605037203,
  SummaryAggregates1796605040319,
  SearchScope1796650000000,
  LineSearchDocuments1796660000000,
];

/** The budgets subgraph's only DataSource: the tables it owns. */
export const createBudgetsDataSource = (storage: StorageConfig, logger?: Logger) =>
  createDataSource({ storage, entities, migrations, logger });
