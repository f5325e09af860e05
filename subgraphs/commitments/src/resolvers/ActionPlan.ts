import { loadChildConnection } from '@civic/common/pagination';
import { toProvenance } from '@civic/common/provenance';
import { foundHighlights } from '@civic/common/search';
import { entityRef } from '@civic/common/subgraph';
import type { ActionPlanResolvers } from '../generated/resolvers-types';
import { actionPlanSearchText } from '../search';

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
  searchHighlights: (p) => foundHighlights(p, actionPlanSearchText(p)),
};
