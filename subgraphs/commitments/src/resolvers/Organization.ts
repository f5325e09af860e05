import { loadChildConnection } from '../../../../common/src/pagination';
import type { OrganizationResolvers } from '../generated/resolvers-types';

/** Organizations are owned by the organizations subgraph; this one adds their commitments and action plans. */
export const Organization: OrganizationResolvers = {
  __resolveReference: (ref) => ref,
  commitments: (o, args, ctx) =>
    loadChildConnection(
      {
        pages: ctx.loaders.commitmentPagesByOrganization,
        counts: ctx.loaders.commitmentCountsByOrganization,
        nodes: ctx.loaders.commitmentById,
      },
      o.id,
      args,
      // The schema's default is ANY; a client may still pass an explicit null.
      args.role ?? 'ANY',
      (c) => c.id,
    ),
  actionPlans: (o, _, ctx) => ctx.loaders.actionPlansByMember.load(o.id),
};
