import { bestText, readLocalized } from '../../../../common/src/localized';
import { toProvenance } from '../../../../common/src/provenance';
import type { SubgraphContext } from '../../../../common/src/subgraph';
import type { Organization } from '../entities/Organization';
import type { OrganizationLoaders } from '../loaders';

type Ctx = SubgraphContext<OrganizationLoaders>;

export const OrganizationResolvers = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.organizationById.load(ref.id),
  // Every organization has a name in at least one language (the seed refuses rows without one); the id is a
  // last resort so a non-null field never fails a whole query.
  name: (o: Organization) => bestText(readLocalized(o, 'name')) ?? o.id,
  names: (o: Organization) => readLocalized(o, 'name'),
  parent: (o: Organization, _: unknown, ctx: Ctx) =>
    o.parentId ? ctx.loaders.organizationById.load(o.parentId) : null,
  children: (o: Organization, _: unknown, ctx: Ctx) => ctx.loaders.childrenByParent.load(o.id),
  identifiers: (o: Organization, _: unknown, ctx: Ctx) => ctx.loaders.identifiersByOrganization.load(o.id),
  ogpMembership: (o: Organization) =>
    o.ogpMembershipType ? { type: o.ogpMembershipType, joined: o.ogpJoined } : null,
  source: (o: Organization) => toProvenance(o),
};
