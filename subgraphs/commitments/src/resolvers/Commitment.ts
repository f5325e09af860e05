import { readLocalized } from '../../../../common/src/localized';
import { toProvenance } from '../../../../common/src/provenance';
import { entityRef, type SubgraphContext } from '../../../../common/src/subgraph';
import type { Commitment } from '../entities/Commitment';
import type { CommitmentLoaders } from '../loaders';

type Ctx = SubgraphContext<CommitmentLoaders>;

export const CommitmentResolvers = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.commitmentById.load(ref.id),
  actionPlan: (c: Commitment, _: unknown, ctx: Ctx) => ctx.loaders.actionPlanById.load(c.actionPlanId),
  titles: (c: Commitment) => readLocalized(c, 'title'),
  policyAreas: async (c: Commitment, _: unknown, ctx: Ctx) =>
    (await ctx.loaders.policyAreasByCommitment.load(c.id)).map((p) => p.policyArea),
  ogpValues: async (c: Commitment, _: unknown, ctx: Ctx) =>
    (await ctx.loaders.ogpValuesByCommitment.load(c.id)).map((v) => v.value),
  leadOrganization: (c: Commitment) =>
    c.leadOrganizationId ? entityRef('Organization', c.leadOrganizationId) : null,
  supportingOrganizations: async (c: Commitment, _: unknown, ctx: Ctx) =>
    (await ctx.loaders.supportersByCommitment.load(c.id)).map((s) =>
      entityRef('Organization', s.organizationId),
    ),
  assessment: (c: Commitment) => {
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
  source: (c: Commitment) => toProvenance(c),
};
