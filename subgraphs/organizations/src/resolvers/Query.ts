import { searchableConnection } from '@civic/common/search';
import { OrganizationEntity } from '../entities/Organization';
import type { QueryResolvers } from '../generated/resolvers-types';
import { applyOrganizationFilter } from '../list';
import { organizationOrder } from '../ordering';

export const Query: QueryResolvers = {
  organization: (_, args, ctx) => ctx.loaders.organizationById.load(args.id),

  organizations: (_, args, ctx) => {
    const qb = ctx.db.getRepository(OrganizationEntity).createQueryBuilder('o');
    // Arguments are checked before any statement runs: a bad one is refused with its name, nothing queried.
    const terms = organizationOrder(args.orderBy, qb.alias, ctx.languages);
    const search = applyOrganizationFilter(qb, args.filter);
    // Most relevant first when searched without an order; nodes remember their search for searchHighlights.
    return searchableConnection(qb, args, terms, search);
  },
};
