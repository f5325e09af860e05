import type { SeedReport } from '../../../../common/src/seed';
import type { ActionPlan } from '../entities/ActionPlan';
import type { Commitment } from '../entities/Commitment';
import type {
  CommitmentOgpValue,
  CommitmentPolicyArea,
  CommitmentSupporter,
} from '../entities/CommitmentLinks';

/** What one dataset contributes to the commitments subgraph (built from files, written by the seed). */
export interface CommitmentsSeed {
  actionPlans: ActionPlan[];
  commitments: Commitment[];
  supporters: CommitmentSupporter[];
  policyAreas: CommitmentPolicyArea[];
  ogpValues: CommitmentOgpValue[];
  report: SeedReport;
}
