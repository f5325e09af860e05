import { loadChildConnection, type PageArgs } from '../../../../common/src/pagination';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef, type SubgraphContext } from '../../../../common/src/subgraph';
import type { ActionPlan } from '../entities/ActionPlan';
import type { CommitmentLoaders } from '../loaders';

type Ctx = SubgraphContext<CommitmentLoaders>;

export const ActionPlanResolvers = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.actionPlanById.load(ref.id),
  member: (p: ActionPlan) => entityRef('Organization', p.memberId),
  commitments: (p: ActionPlan, args: PageArgs, ctx: Ctx) =>
    loadChildConnection(
      {
        pages: ctx.loaders.commitmentPagesByPlan,
        counts: ctx.loaders.commitmentCountsByPlan,
        nodes: ctx.loaders.commitmentById,
      },
      p.id,
      args,
      null,
      (c) => c.id,
    ),
  source: (p: ActionPlan) => toProvenance(p),
};
