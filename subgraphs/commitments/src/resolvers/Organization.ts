import { listFirst, loadChildConnection } from '@civic/common/pagination';
import type { OrganizationResolvers } from '../generated/resolvers-types';
import { checkGroupBy } from '@civic/common/aggregates';
import { toGroups } from '../aggregates';

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
  actionPlans: async (o, args, ctx, info) => {
    const first = listFirst(args.first, info);
    return (await ctx.loaders.actionPlansByMember.load(o.id)).slice(0, first);
  },
  // Many organizations of one response share one statement per (groupBy, role): see the loader.
  commitmentStats: async (o, args, ctx) => {
    const groupBy = checkGroupBy(args.groupBy);
    const rows = await ctx.loaders.commitmentStatsByOrganization.load({
      organizationId: o.id,
      groupBy,
      role: args.role ?? 'ANY',
    });
    return toGroups(groupBy, rows, ctx.languages);
  },
};
