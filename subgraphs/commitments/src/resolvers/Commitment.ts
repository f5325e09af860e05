import { fromLanguageEnum, languageOrder } from '@civic/common/language';
import { bestText, readLocalized } from '@civic/common/localized';
import { listFirst } from '@civic/common/pagination';
import { toProvenance } from '@civic/common/provenance';
import { foundHighlights } from '@civic/common/search';
import { entityRef } from '@civic/common/subgraph';
import type { CommitmentResolvers } from '../generated/resolvers-types';
import { commitmentSearchText } from '../search';

export const Commitment: CommitmentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.commitmentById.load(ref.id),
  actionPlan: async (c, _, ctx) => {
    const plan = await ctx.loaders.actionPlanById.load(c.actionPlanId);
    // The plan is a row of this subgraph's own database; a missing one is broken data, named in the log
    // (clients see a masked internal error, as they would for the null this non-null field cannot return).
    if (!plan)
      throw new Error(`Commitment ${c.id} refers to action plan ${c.actionPlanId}, which does not exist`);
    return plan;
  },
  // The titles the source gives per language (OGP Local), in the request's order; else the source's title.
  title: (c, args, ctx) =>
    bestText(readLocalized(c, 'title'), languageOrder(ctx.languages, fromLanguageEnum(args.lang))) ?? c.title,
  titles: (c) => readLocalized(c, 'title'),
  policyAreas: async (c, args, ctx, info) => {
    const first = listFirst(args.first, info);
    // Sorted here: the database's collation need not be code point order, and `first` must cut a stable list.
    const areas = (await ctx.loaders.policyAreasByCommitment.load(c.id)).map((p) => p.policyArea);
    return areas.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, first);
  },
  ogpValues: async (c, _, ctx) => (await ctx.loaders.ogpValuesByCommitment.load(c.id)).map((v) => v.value),
  leadOrganization: (c) => (c.leadOrganizationId ? entityRef('Organization', c.leadOrganizationId) : null),
  // The first lead is the commitment's own column; the others come from one statement per batch of commitments.
  leadOrganizations: async (c, args, ctx, info) => {
    const first = listFirst(args.first, info);
    if (!c.leadOrganizationId || first === 0) return [];
    const coLeads = (await ctx.loaders.coLeadsByCommitment.load(c.id)).slice(0, first - 1);
    return [c.leadOrganizationId, ...coLeads.map((l) => l.organizationId)].map((id) =>
      entityRef('Organization', id),
    );
  },
  leadInstitutionText: (c) => c.leadInstitutionText ?? null,
  supportingInstitutionsText: (c) => c.supportingInstitutionsText ?? null,
  supportingOrganizations: async (c, args, ctx, info) => {
    const first = listFirst(args.first, info);
    return (await ctx.loaders.supportersByCommitment.load(c.id))
      .slice(0, first)
      .map((s) => entityRef('Organization', s.organizationId));
  },
  assessment: (c) => {
    const a = {
      specificity: c.specificity,
      verifiable: c.verifiable === null || c.verifiable === undefined ? null : Boolean(c.verifiable),
      potentialImpact: c.potentialImpact,
      completionMidterm: c.completionMidterm,
      completionEndOfTerm: c.completionEndOfTerm,
      didItOpenGovernment: c.didItOpenGovernment,
    };
    // Not assessed at all: no assessment object, rather than one full of nulls.
    return Object.values(a).every((v) => v === null) ? null : a;
  },
  source: (c) => toProvenance(c),
  // Computed from the row and the search that found it: no SQL.
  searchHighlights: (c) => foundHighlights(c, commitmentSearchText(c)),
};
