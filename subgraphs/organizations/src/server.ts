import { defineSubgraph } from '@civic/common/subgraph';
import { createOrganizationsDataSource } from './data-source';
import { OrganizationEntity } from './entities/Organization';
import type { Resolvers } from './generated/resolvers-types';
import { importers } from './import';
import { bundled } from './import/bundled';
import { createOrganizationLoaders } from './loaders';
import { Query } from './resolvers/Query';
import { Organization } from './resolvers/Organization';
import { Provenance } from './resolvers/Provenance';
import { generateOrganizations } from './synthetic';

export const resolvers: Resolvers = { Query, Organization, Provenance };

/**
 * The organizations subgraph, as the bootstrap (common/src/bootstrap.ts), the scripts and the tests run it: its
 * storage, its importers and the bundled files its seed imports through them, and its service. Building the
 * service does not listen: index.ts binds the port.
 */
export const organizationsSubgraph = defineSubgraph({
  name: 'organizations',
  resolvers,
  createLoaders: createOrganizationLoaders,
  createDataSource: createOrganizationsDataSource,
  importers,
  seed: { files: bundled, table: OrganizationEntity },
  synthetic: { what: 'organizations', generate: generateOrganizations },
});
