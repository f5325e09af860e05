import { loadChildConnection } from '../../../../common/src/pagination';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef } from '../../../../common/src/subgraph';
import type { ActionPlanResolvers } from '../generated/resolvers-types';
import { actionPlanSearchText, searchHighlights } from '../search';

export const ActionPlan: ActionPlanResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.actionPlanById.load(ref.id),
  member: (p) => entityRef('Organization', p.memberId),
  commitments: (p, args, ctx) =>
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
  source: (p) => toProvenance(p),
  // Computed from the row and the search that found it: no SQL.
  searchHighlights: (p) => searchHighlights(p, actionPlanSearchText(p)),
};
