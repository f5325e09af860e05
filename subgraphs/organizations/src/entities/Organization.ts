import { EntitySchema } from 'typeorm';
import { localizedColumns } from '@civic/common/localized';
import { provenanceColumns, type WithProvenance } from '@civic/common/provenance';
import type { OrganizationKind } from '@civic/formats/vocabulary';

export { ORGANIZATION_KINDS, type OrganizationKind } from '@civic/formats/vocabulary';

/** A government, civil-society organization or other body taking part in open government. */
export interface Organization extends WithProvenance {
  id: string;
  kind: OrganizationKind;
  /** national government, region, province, municipality, ministry, association... */
  classification: string | null;
  /** ISO 3166-1 alpha-2 */
  country: string | null;
  parentId: string | null;
  nameAr: string | null;
  nameFr: string | null;
  nameEn: string | null;
  nameEs: string | null;
  /** NATIONAL or LOCAL for OGP members */
  ogpMembershipType: 'NATIONAL' | 'LOCAL' | null;
  /** ISO 8601 date, possibly reduced precision ("2021", "2022-05") */
  ogpJoined: string | null;
}

export const OrganizationEntity = new EntitySchema<Organization>({
  name: 'Organization',
  tableName: 'organizations',
  columns: {
    id: { type: 'varchar', length: 191, primary: true },
    kind: { type: 'varchar', length: 32 },
    classification: { type: 'varchar', length: 64, nullable: true },
    country: { type: 'varchar', length: 2, nullable: true },
    parentId: { type: 'varchar', length: 191, name: 'parent_id', nullable: true },
    ...localizedColumns('name'),
    ogpMembershipType: { type: 'varchar', length: 16, name: 'ogp_membership_type', nullable: true },
    ogpJoined: { type: 'varchar', length: 10, name: 'ogp_joined', nullable: true },
    ...provenanceColumns,
  },
  indices: [
    { name: 'IDX_organizations_parent', columns: ['parentId'] },
    { name: 'IDX_organizations_country_kind', columns: ['country', 'kind'] },
  ],
});
