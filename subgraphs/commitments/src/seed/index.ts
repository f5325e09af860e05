import type { DataSource } from 'typeorm';
import { indexDocuments } from '../../../../common/src/search';
import { DATASETS_DIR } from '../../../../common/src/sources';
import { upsertAll, type SeedReport } from '../../../../common/src/seed';
import { ActionPlanEntity } from '../entities/ActionPlan';
import { CommitmentEntity } from '../entities/Commitment';
import {
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
} from '../entities/CommitmentLinks';
import { settleSearchStatistics } from '../../../../common/src/search';
import { actionPlanDocuments, commitmentDocuments } from '../search';
import { buildOgpCommitments } from './ogp';

/**
 * Loads the real datasets into the commitments tables and their search index, in one transaction. Safe to
 * run again (indexing replaces an entity's indexed text).
 */
export async function seedCommitments(ds: DataSource, dir = DATASETS_DIR): Promise<SeedReport[]> {
  const seeds = buildOgpCommitments(dir);
  await ds.transaction(async (m) => {
    for (const s of seeds) {
      await upsertAll(m, ActionPlanEntity, s.actionPlans);
      await upsertAll(m, CommitmentEntity, s.commitments, 50);
      await upsertAll(m, CommitmentSupporterEntity, s.supporters);
      await upsertAll(m, CommitmentPolicyAreaEntity, s.policyAreas);
      await upsertAll(m, CommitmentOgpValueEntity, s.ogpValues);
      await indexDocuments(m, [...actionPlanDocuments(s.actionPlans), ...commitmentDocuments(s.commitments)]);
    }
  });
  await settleSearchStatistics(ds);
  return seeds.map((s) => s.report);
}

export async function commitmentsEmpty(ds: DataSource): Promise<boolean> {
  return (await ds.getRepository(CommitmentEntity).count({ take: 1 })) === 0;
}
