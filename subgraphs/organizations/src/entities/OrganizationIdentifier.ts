import { EntitySchema } from 'typeorm';

/** An identifier of an organization in an external scheme, e.g. { scheme: "tn-municipality", value: "33011" }. */
export interface OrganizationIdentifier {
  organizationId: string;
  scheme: string;
  value: string;
}

export const OrganizationIdentifierEntity = new EntitySchema<OrganizationIdentifier>({
  name: 'OrganizationIdentifier',
  tableName: 'organization_identifiers',
  columns: {
    organizationId: { type: 'varchar', length: 191, name: 'organization_id', primary: true },
    scheme: { type: 'varchar', length: 64, primary: true },
    value: { type: 'varchar', length: 191, primary: true },
  },
  indices: [{ name: 'IDX_organization_identifiers_scheme_value', columns: ['scheme', 'value'] }],
});
