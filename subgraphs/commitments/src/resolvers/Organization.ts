import { loadChildConnection, type PageArgs } from '../../../../common/src/pagination';
import type { SubgraphContext } from '../../../../common/src/subgraph';
import type { CommitmentLoaders, CommitmentRole } from '../loaders';

type Ctx = SubgraphContext<CommitmentLoaders>;

/** Organizations are owned by the organizations subgraph; this one adds their commitments and action plans. */
export const OrganizationResolvers = {
  __resolveReference: (ref: { id: string }) => ref,
  commitments: (o: { id: string }, args: PageArgs & { role?: CommitmentRole | null }, ctx: Ctx) =>
    loadChildConnection(
      {
        pages: ctx.loaders.commitmentPagesByOrganization,
        counts: ctx.loaders.commitmentCountsByOrganization,
        nodes: ctx.loaders.commitmentById,
      },
      o.id,
      args,
      args.role ?? 'ANY',
      (c) => c.id,
    ),
  actionPlans: (o: { id: string }, _: unknown, ctx: Ctx) => ctx.loaders.actionPlansByMember.load(o.id),
};
