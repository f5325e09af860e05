import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader, groupLoader } from '../../../common/src/loaders';
import { childCountLoader, childPageLoader, type ChildPage, type Page } from '../../../common/src/pagination';
import { ActionPlanEntity, type ActionPlan } from './entities/ActionPlan';
import { CommitmentEntity, type Commitment } from './entities/Commitment';
import {
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
  type CommitmentOgpValue,
  type CommitmentPolicyArea,
  type CommitmentSupporter,
} from './entities/CommitmentLinks';

export type CommitmentRole = 'LEAD' | 'SUPPORTING' | 'ANY';

/** Which commitments an organization has, by role: `child_id` is the commitment, `parent_id` the organization. */
const byRole = (role: CommitmentRole) => {
  const lead = 'SELECT id AS child_id, lead_organization_id AS parent_id FROM commitments';
  const supporting =
    'SELECT commitment_id AS child_id, organization_id AS parent_id FROM commitment_supporting_organizations';
  const sql = role === 'LEAD' ? lead : role === 'SUPPORTING' ? supporting : `${lead} UNION ${supporting}`;
  return { sql, params: [] };
};
const byActionPlan = () => ({
  sql: 'SELECT id AS child_id, action_plan_id AS parent_id FROM commitments',
  params: [],
});

type PageKey<V> = { parentId: string; page: Page; variant: V };
type CountKey<V> = { parentId: string; variant: V };

/** The commitments subgraph's per-request loaders. */
export interface CommitmentLoaders {
  commitmentById: DataLoader<string, Commitment | null>;
  actionPlanById: DataLoader<string, ActionPlan | null>;
  actionPlansByMember: DataLoader<string, ActionPlan[]>;
  supportersByCommitment: DataLoader<string, CommitmentSupporter[]>;
  policyAreasByCommitment: DataLoader<string, CommitmentPolicyArea[]>;
  ogpValuesByCommitment: DataLoader<string, CommitmentOgpValue[]>;
  commitmentPagesByPlan: DataLoader<PageKey<null>, ChildPage, string>;
  commitmentCountsByPlan: DataLoader<CountKey<null>, number, string>;
  commitmentPagesByOrganization: DataLoader<PageKey<CommitmentRole>, ChildPage, string>;
  commitmentCountsByOrganization: DataLoader<CountKey<CommitmentRole>, number, string>;
}

/** Made once per request: a loader's cache must never outlive its request. */
export function createCommitmentLoaders(ds: DataSource): CommitmentLoaders {
  return {
    commitmentById: byIdLoader(ds.getRepository(CommitmentEntity), 'commitmentById'),
    actionPlanById: byIdLoader(ds.getRepository(ActionPlanEntity), 'actionPlanById'),
    actionPlansByMember: groupLoader(ds.getRepository(ActionPlanEntity), 'memberId', 'actionPlansByMember', {
      id: 'ASC',
    }),
    supportersByCommitment: groupLoader(
      ds.getRepository(CommitmentSupporterEntity),
      'commitmentId',
      'supportersByCommitment',
      { position: 'ASC' },
    ),
    policyAreasByCommitment: groupLoader(
      ds.getRepository(CommitmentPolicyAreaEntity),
      'commitmentId',
      'policyAreasByCommitment',
      { policyArea: 'ASC' },
    ),
    ogpValuesByCommitment: groupLoader(
      ds.getRepository(CommitmentOgpValueEntity),
      'commitmentId',
      'ogpValuesByCommitment',
      { value: 'ASC' },
    ),
    commitmentPagesByPlan: childPageLoader(ds, 'commitmentPagesByPlan', byActionPlan),
    commitmentCountsByPlan: childCountLoader(ds, 'commitmentCountsByPlan', byActionPlan),
    commitmentPagesByOrganization: childPageLoader(ds, 'commitmentPagesByOrganization', byRole),
    commitmentCountsByOrganization: childCountLoader(ds, 'commitmentCountsByOrganization', byRole),
  };
}
