import { orderedConnection } from '../../../../common/src/ordering';
import { relevanceOrder, searchScores } from '../../../../common/src/search';
import { OrganizationEntity, type Organization } from '../entities/Organization';
import type { QueryResolvers } from '../generated/resolvers-types';
import { applyOrganizationFilter, organizationOrder, SEARCH_ALIAS } from '../organization-list';
import { rememberSearch } from '../organization-search';

export const Query: QueryResolvers = {
  organization: (_, args, ctx) => ctx.loaders.organizationById.load(args.id),

  organizations: async (_, args, ctx) => {
    const qb = ctx.db.getRepository(OrganizationEntity).createQueryBuilder('o');
    // Arguments are checked before any statement runs: a bad one is refused with its name, nothing queried.
    let terms = organizationOrder(args.orderBy, qb.alias, ctx.languages);
    const search = applyOrganizationFilter(qb, args.filter);
    if (search && !terms.length) {
      // Most relevant first. The scores (one statement, whatever the page size) give each row's cursor
      // value; a page of nothing (`first: 0`, for totalCount) needs none.
      const scores =
        args.first === 0 ? new Map<string, number>() : await searchScores(ctx.db.manager, search);
      terms = [relevanceOrder<Organization>(SEARCH_ALIAS, scores)];
    }
    const page = await orderedConnection(qb, args, terms);
    // For Organization.searchHighlights, which reads it back from each node without another statement.
    if (search) rememberSearch(page.nodes, search.search);
    return page;
  },
};
