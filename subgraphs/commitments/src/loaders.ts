import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader, groupLoader, MAX_BATCH } from '@civic/common/loaders';
import { childCountLoader, childPageLoader, type ChildPage, type Page } from '@civic/common/pagination';
import { ActionPlanEntity, type ActionPlan } from './entities/ActionPlan';
import { CommitmentEntity, type Commitment } from './entities/Commitment';
import {
  CommitmentCoLeadEntity,
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
  type CommitmentCoLead,
  type CommitmentOgpValue,
  type CommitmentPolicyArea,
  type CommitmentSupporter,
} from './entities/CommitmentLinks';
import type { CommitmentDimension } from './generated/resolvers-types';
import { badInput } from '@civic/common/errors';
import { MAX_GROUPS, queryStats, type StatsRow } from './aggregates';

export type CommitmentRole = 'LEAD' | 'SUPPORTING' | 'ANY';

/**
 * Which commitments an organization has, by role: `child_id` is the commitment, `parent_id` the organization.
 * An organization leads a commitment as its first lead or as a further one (a co-lead).
 */
const byRole = (role: CommitmentRole) => {
  const lead =
    'SELECT id AS child_id, lead_organization_id AS parent_id FROM commitments UNION ' +
    'SELECT commitment_id AS child_id, organization_id AS parent_id FROM commitment_co_lead_organizations';
  const supporting =
    'SELECT commitment_id AS child_id, organization_id AS parent_id FROM commitment_supporting_organizations';
  const sql = role === 'LEAD' ? lead : role === 'SUPPORTING' ? supporting : `${lead} UNION ${supporting}`;
  return { sql, params: [] };
};
const byActionPlan = () => ({
  sql: 'SELECT id AS child_id, action_plan_id AS parent_id FROM commitments',
  params: [],
});

/** An organization's commitment statistics for one grouping and role. */
export interface StatsKey {
  organizationId: string;
  groupBy: readonly CommitmentDimension[];
  role: CommitmentRole;
}

/**
 * Statistics of many organizations: one GROUP BY statement per distinct (groupBy, role), grouped by
 * organization too, its rows then dealt out to the keys in key order. An organization with no commitment has
 * no group, except with an empty groupBy, where its one group counts 0. An organization with more than
 * MAX_GROUPS groups gets the error `Query.commitmentStats` gives, as `Organization.budgetSummary` does.
 */
function statsLoader(ds: DataSource): DataLoader<StatsKey, StatsRow[], string> {
  return new DataLoader<StatsKey, StatsRow[], string>(
    async (keys) => {
      const variants = new Map<string, StatsKey[]>();
      for (const k of keys) {
        const v = JSON.stringify([k.groupBy, k.role]);
        variants.set(v, [...(variants.get(v) ?? []), k]);
      }
      const found = new Map<string, StatsRow[]>();
      for (const [v, group] of variants) {
        const { groupBy, role } = group[0];
        const ids = [...new Set(group.map((k) => k.organizationId))];
        for (const row of await queryStats(ds, groupBy, { organizations: { ids, role: byRole(role) } })) {
          const at = JSON.stringify([v, row.organizationId]);
          const rows = found.get(at);
          if (rows) rows.push(row);
          else found.set(at, [row]);
        }
      }
      return keys.map((k) => {
        const rows = found.get(JSON.stringify([JSON.stringify([k.groupBy, k.role]), k.organizationId]));
        if (rows && rows.length > MAX_GROUPS) {
          return badInput(
            `Argument "groupBy" gives more than ${MAX_GROUPS} groups: group by fewer dimensions`,
            'groupBy',
          );
        }
        if (rows) return rows;
        return k.groupBy.length
          ? []
          : [{ organizationId: k.organizationId, values: [], labels: [], count: 0 }];
      });
    },
    {
      name: 'commitmentStatsByOrganization',
      maxBatchSize: MAX_BATCH,
      cacheKeyFn: (k) => JSON.stringify([k.organizationId, k.groupBy, k.role]),
    },
  );
}

type PageKey<V> = { parentId: string; page: Page; variant: V };
type CountKey<V> = { parentId: string; variant: V };

/** The commitments subgraph's per-request loaders. */
export interface CommitmentLoaders {
  commitmentById: DataLoader<string, Commitment | null>;
  actionPlanById: DataLoader<string, ActionPlan | null>;
  actionPlansByMember: DataLoader<string, ActionPlan[]>;
  coLeadsByCommitment: DataLoader<string, CommitmentCoLead[]>;
  supportersByCommitment: DataLoader<string, CommitmentSupporter[]>;
  policyAreasByCommitment: DataLoader<string, CommitmentPolicyArea[]>;
  ogpValuesByCommitment: DataLoader<string, CommitmentOgpValue[]>;
  commitmentPagesByPlan: DataLoader<PageKey<null>, ChildPage, string>;
  commitmentCountsByPlan: DataLoader<CountKey<null>, number, string>;
  commitmentPagesByOrganization: DataLoader<PageKey<CommitmentRole>, ChildPage, string>;
  commitmentCountsByOrganization: DataLoader<CountKey<CommitmentRole>, number, string>;
  commitmentStatsByOrganization: DataLoader<StatsKey, StatsRow[], string>;
}

/** Made once per request: a loader's cache must never outlive its request. */
export function createCommitmentLoaders(ds: DataSource): CommitmentLoaders {
  return {
    commitmentById: byIdLoader(ds.getRepository(CommitmentEntity), 'commitmentById'),
    actionPlanById: byIdLoader(ds.getRepository(ActionPlanEntity), 'actionPlanById'),
    actionPlansByMember: groupLoader(ds.getRepository(ActionPlanEntity), 'memberId', 'actionPlansByMember', {
      id: 'ASC',
    }),
    coLeadsByCommitment: groupLoader(
      ds.getRepository(CommitmentCoLeadEntity),
      'commitmentId',
      'coLeadsByCommitment',
      { position: 'ASC' },
    ),
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
    commitmentStatsByOrganization: statsLoader(ds),
  };
}
