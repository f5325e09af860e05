import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader, groupLoader } from '@civic/common/loaders';
import { OrganizationEntity, type Organization } from './entities/Organization';
import { OrganizationIdentifierEntity, type OrganizationIdentifier } from './entities/OrganizationIdentifier';

/** The organizations subgraph's per-request loaders. */
export interface OrganizationLoaders {
  organizationById: DataLoader<string, Organization | null>;
  childrenByParent: DataLoader<string, Organization[]>;
  identifiersByOrganization: DataLoader<string, OrganizationIdentifier[]>;
}

/** Made once per request (see common/src/subgraph.ts): a loader's cache must never outlive its request. */
export function createOrganizationLoaders(ds: DataSource): OrganizationLoaders {
  return {
    organizationById: byIdLoader(ds.getRepository(OrganizationEntity), 'organizationById'),
    childrenByParent: groupLoader(ds.getRepository(OrganizationEntity), 'parentId', 'childrenByParent', {
      id: 'ASC',
    }),
    identifiersByOrganization: groupLoader(
      ds.getRepository(OrganizationIdentifierEntity),
      'organizationId',
      'identifiersByOrganization',
      { scheme: 'ASC', value: 'ASC' },
    ),
  };
}
