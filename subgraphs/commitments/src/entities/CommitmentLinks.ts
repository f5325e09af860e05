import { EntitySchema } from 'typeorm';
import type { OgpValue } from '@civic/formats/vocabulary';

/** A supporting institution of a commitment, in the order the source lists them. */
export interface CommitmentSupporter {
  commitmentId: string;
  organizationId: string;
  position: number;
}

export const CommitmentSupporterEntity = new EntitySchema<CommitmentSupporter>({
  name: 'CommitmentSupporter',
  tableName: 'commitment_supporting_organizations',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    organizationId: { type: 'varchar', length: 191, name: 'organization_id', primary: true },
    position: { type: 'integer' },
  },
  indices: [{ name: 'IDX_commitment_supporters_org', columns: ['organizationId'] }],
});

/**
 * A further lead institution of a commitment: the source's lead cell names several ("Ministry of the Interior;
 * Ministry for Decentralization and the Civil Service"). The first is the commitment's `leadOrganizationId`;
 * the others are these rows, `position` being the name's place in the cell (2 for the second).
 */
export interface CommitmentCoLead {
  commitmentId: string;
  organizationId: string;
  position: number;
}

export const CommitmentCoLeadEntity = new EntitySchema<CommitmentCoLead>({
  name: 'CommitmentCoLead',
  tableName: 'commitment_co_lead_organizations',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    organizationId: { type: 'varchar', length: 191, name: 'organization_id', primary: true },
    position: { type: 'integer' },
  },
  indices: [{ name: 'IDX_commitment_co_leads_org', columns: ['organizationId'] }],
});

/** A policy area flagged for a commitment (one of the export's 0/1 columns). */
export interface CommitmentPolicyArea {
  commitmentId: string;
  policyArea: string;
}

export const CommitmentPolicyAreaEntity = new EntitySchema<CommitmentPolicyArea>({
  name: 'CommitmentPolicyArea',
  tableName: 'commitment_policy_areas',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    policyArea: { type: 'varchar', length: 128, name: 'policy_area', primary: true },
  },
  indices: [{ name: 'IDX_commitment_policy_areas_area', columns: ['policyArea'] }],
});

/** An OGP value a commitment is relevant to. */
export interface CommitmentOgpValue {
  commitmentId: string;
  value: OgpValue;
}

export const CommitmentOgpValueEntity = new EntitySchema<CommitmentOgpValue>({
  name: 'CommitmentOgpValue',
  tableName: 'commitment_ogp_values',
  columns: {
    commitmentId: { type: 'varchar', length: 64, name: 'commitment_id', primary: true },
    value: { type: 'varchar', length: 32, primary: true },
  },
  indices: [{ name: 'IDX_commitment_ogp_values_value', columns: ['value'] }],
});
