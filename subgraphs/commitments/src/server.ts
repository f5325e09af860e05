import { defineSubgraph } from '@civic/common/subgraph';
import { createCommitmentsDataSource } from './data-source';
import { CommitmentEntity } from './entities/Commitment';
import type { Resolvers } from './generated/resolvers-types';
import { importers } from './import';
import { bundled } from './import/bundled';
import { createCommitmentLoaders } from './loaders';
import { Query } from './resolvers/Query';
import { ActionPlan } from './resolvers/ActionPlan';
import { Commitment } from './resolvers/Commitment';
import { Organization } from './resolvers/Organization';
import { Provenance } from './resolvers/Provenance';
import { generateCommitments } from './synthetic';

export const resolvers: Resolvers = { Query, ActionPlan, Commitment, Organization, Provenance };

/**
 * The commitments subgraph, as the bootstrap (common/src/bootstrap.ts), the scripts and the tests run it: its
 * storage, its importers and the bundled files its seed imports through them, and its service. Building the
 * service does not listen: index.ts binds the port.
 */
export const commitmentsSubgraph = defineSubgraph({
  name: 'commitments',
  resolvers,
  createLoaders: createCommitmentLoaders,
  createDataSource: createCommitmentsDataSource,
  importers,
  seed: { files: bundled, table: CommitmentEntity },
  synthetic: { what: 'commitments', generate: generateCommitments },
});
