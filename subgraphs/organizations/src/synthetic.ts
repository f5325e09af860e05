import { writeData } from '@civic/common/data-version';
import { settleSearchStatistics } from '@civic/common/search';
import type { DataSource } from 'typeorm';
import { rebuildSearchIndex, SEARCH_TABLE } from '@civic/common/search';
import {
  insertAll,
  prng,
  SYNTHETIC_DATASET,
  syntheticOrganizationId,
  syntheticOrganizationNames,
  syntheticSizes,
  syntheticSource,
} from '@civic/formats/synthetic';
import { ORGANIZATION_KINDS } from '@civic/formats/vocabulary';
import { OrganizationEntity, type Organization } from './entities/Organization';
import { OrganizationIdentifierEntity, type OrganizationIdentifier } from './entities/OrganizationIdentifier';
import { indexOrganizations, ORGANIZATION_SEARCH_TYPE } from './search';

const COUNTRIES = ['MA', 'TN', 'FR', 'SN', 'JO', 'ID', 'KE', 'BR', 'PH', 'UA'];
const CHUNK = 5000;

/**
 * Replaces the synthetic organizations (and only them) with a fresh set for this scale and seed, in chunks
 * so memory stays flat at the largest scale, their names indexed for search with each chunk. Returns the
 * number of organizations written.
 */
export async function generateOrganizations(ds: DataSource, scale: number, seed: number): Promise<number> {
  const { organizations: n } = syntheticSizes(scale);
  const r = prng(seed ^ 0x0a11);
  await writeData(ds, 'organizations', async (m) => {
    await m.query(`DELETE FROM organization_identifiers WHERE organization_id LIKE 'syn-%'`);
    await m.getRepository(OrganizationEntity).delete({ sourceDataset: SYNTHETIC_DATASET });
    // One statement for every old synthetic document (removeDocuments would list the ids). Deleted behind the
    // search module's back, so SQLite's FTS5 copy is rebuilt from what is left before the new chunks are
    // indexed (a no-op on MySQL, whose FULLTEXT index follows the table).
    await m.query(`DELETE FROM ${SEARCH_TABLE} WHERE entity_type = ? AND entity_id LIKE 'syn-%'`, [
      ORGANIZATION_SEARCH_TYPE,
    ]);
    await rebuildSearchIndex(m);
    for (let start = 0; start < n; start += CHUNK) {
      const orgs: Organization[] = [];
      const ids: OrganizationIdentifier[] = [];
      for (let i = start; i < Math.min(n, start + CHUNK); i++) {
        const member = r.chance(0.05);
        const names = (k: number) => {
          const n = syntheticOrganizationNames(k, seed);
          return { nameFr: n.fr, nameEn: n.en, nameAr: n.ar };
        };
        orgs.push({
          id: syntheticOrganizationId(i),
          kind: member ? 'GOVERNMENT' : r.pick(ORGANIZATION_KINDS),
          classification: r.pick(['ministry', 'municipality', 'association', 'agency', null]),
          country: r.pick(COUNTRIES),
          parentId: i >= 10 && r.chance(0.6) ? syntheticOrganizationId(Math.floor(i / 10)) : null,
          ...names(i),
          nameEs: null,
          ogpMembershipType: member ? r.pick(['NATIONAL', 'LOCAL'] as const) : null,
          ogpJoined: member ? String(r.int(2011, 2024)) : null,
          ...syntheticSource(scale, seed, `organization ${i}`),
        });
        ids.push({ organizationId: syntheticOrganizationId(i), scheme: 'synthetic', value: String(i) });
      }
      await insertAll(m, OrganizationEntity, orgs);
      await insertAll(m, OrganizationIdentifierEntity, ids);
      await indexOrganizations(m, orgs);
    }
  });
  await settleSearchStatistics(ds);
  return n;
}
