import { fromLanguageEnum, languageOrder } from '@civic/common/language';
import { readLocalized } from '@civic/common/localized';
import { listFirst } from '@civic/common/pagination';
import { toProvenance } from '@civic/common/provenance';
import { foundHighlights } from '@civic/common/search';
import type { OrganizationResolvers } from '../generated/resolvers-types';
import { displayName } from '../ordering';
import { organizationSearchText } from '../search';

export const Organization: OrganizationResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.organizationById.load(ref.id),
  // Every organization has a name in at least one language (the seed refuses rows without one); the id is a
  // last resort so a non-null field never fails a whole query. Without `lang` this is the value
  // `orderBy: NAME` sorts by.
  name: (o, args, ctx) => displayName(o, languageOrder(ctx.languages, fromLanguageEnum(args.lang))),
  names: (o) => readLocalized(o, 'name'),
  parent: (o, _, ctx) => (o.parentId ? ctx.loaders.organizationById.load(o.parentId) : null),
  // One statement for the children of every organization of the response; `first` cuts each one's list.
  children: async (o, args, ctx, info) => {
    const first = listFirst(args.first, info);
    return (await ctx.loaders.childrenByParent.load(o.id)).slice(0, first);
  },
  identifiers: async (o, args, ctx, info) => {
    const first = listFirst(args.first, info);
    return (await ctx.loaders.identifiersByOrganization.load(o.id)).slice(0, first);
  },
  ogpMembership: (o) => (o.ogpMembershipType ? { type: o.ogpMembershipType, joined: o.ogpJoined } : null),
  source: (o) => toProvenance(o),
  // Computed from the row and the search of the list that found it, names in the request's order: no SQL.
  searchHighlights: (o, _, ctx) => foundHighlights(o, organizationSearchText(o, ctx.languages)),
};
