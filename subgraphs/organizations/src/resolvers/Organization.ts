import { bestText, readLocalized } from '../../../../common/src/localized';
import { toProvenance } from '../../../../common/src/provenance';
import type { OrganizationResolvers } from '../generated/resolvers-types';

export const Organization: OrganizationResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.organizationById.load(ref.id),
  // Every organization has a name in at least one language (the seed refuses rows without one); the id is a
  // last resort so a non-null field never fails a whole query.
  name: (o, _args, ctx) => bestText(readLocalized(o, 'name'), ctx.languages) ?? o.id,
  names: (o) => readLocalized(o, 'name'),
  parent: (o, _, ctx) => (o.parentId ? ctx.loaders.organizationById.load(o.parentId) : null),
  children: (o, _, ctx) => ctx.loaders.childrenByParent.load(o.id),
  identifiers: (o, _, ctx) => ctx.loaders.identifiersByOrganization.load(o.id),
  ogpMembership: (o) => (o.ogpMembershipType ? { type: o.ogpMembershipType, joined: o.ogpJoined } : null),
  source: (o) => toProvenance(o),
};
