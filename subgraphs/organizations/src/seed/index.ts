import { settleSearchStatistics } from '../../../../common/src/search';
import type { DataSource } from 'typeorm';
import { DATASETS_DIR } from '../../../../common/src/sources';
import { upsertAll, type SeedReport } from '../../../../common/src/seed';
import { OrganizationEntity, type Organization } from '../entities/Organization';
import { indexOrganizations } from '../organization-search';
import {
  OrganizationIdentifierEntity,
  type OrganizationIdentifier,
} from '../entities/OrganizationIdentifier';
import { buildAdminDivisions } from './admin-divisions';
import { buildOgpOrganizations } from './ogp';
import type { OrganizationSeed } from './types';

/**
 * Merges the builders' output by id, in order: a later record only fills in what the earlier one left null
 * (the OGP Local file adds a membership to the municipality the municipalities file describes, without
 * renaming it), and the first record's provenance stays, since that is where the organization is described.
 */
export function mergeOrganizationSeeds(seeds: OrganizationSeed[]): {
  organizations: Organization[];
  identifiers: OrganizationIdentifier[];
} {
  const orgs = new Map<string, Organization>();
  for (const s of seeds) {
    for (const o of s.organizations) {
      const prev = orgs.get(o.id);
      if (!prev) {
        orgs.set(o.id, { ...o });
        continue;
      }
      for (const [k, v] of Object.entries(o) as [keyof Organization, unknown][]) {
        const target = prev as unknown as Record<string, unknown>;
        if (v !== null && v !== undefined && !k.startsWith('source') && target[k] == null) target[k] = v;
      }
    }
  }
  const ids = new Map<string, OrganizationIdentifier>();
  for (const s of seeds)
    for (const i of s.identifiers) ids.set(`${i.organizationId}\u0000${i.scheme}\u0000${i.value}`, i);
  return { organizations: [...orgs.values()], identifiers: [...ids.values()] };
}

/**
 * Loads the real datasets into the organizations tables and their names into the search index, in one
 * transaction. Safe to run again.
 */
export async function seedOrganizations(ds: DataSource, dir = DATASETS_DIR): Promise<SeedReport[]> {
  const seeds = [...buildAdminDivisions(dir), ...buildOgpOrganizations(dir)];
  const { organizations, identifiers } = mergeOrganizationSeeds(seeds);
  await ds.transaction(async (m) => {
    await upsertAll(m, OrganizationEntity, organizations);
    await upsertAll(m, OrganizationIdentifierEntity, identifiers);
    await indexOrganizations(m, organizations);
  });
  await settleSearchStatistics(ds);
  return seeds.map((s) => s.report);
}

/** True when nothing has been loaded yet (start-up seeds only an empty database). */
export async function organizationsEmpty(ds: DataSource): Promise<boolean> {
  return (await ds.getRepository(OrganizationEntity).count({ take: 1 })) === 0;
}
