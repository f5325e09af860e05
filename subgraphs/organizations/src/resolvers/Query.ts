import { Brackets } from 'typeorm';
import { badInput } from '../../../../common/src/errors';
import { LANGUAGES } from '../../../../common/src/localized';
import { orderedConnection } from '../../../../common/src/ordering';
import { countryFilter, LIKE_ESCAPE, likePattern } from '../../../../common/src/filters';
import { OrganizationEntity } from '../entities/Organization';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  organization: (_, args, ctx) => ctx.loaders.organizationById.load(args.id),

  organizations: async (_, args, ctx) => {
    const qb = ctx.db.getRepository(OrganizationEntity).createQueryBuilder('o');
    const f = args.filter ?? {};
    if (f.kind) qb.andWhere('o.kind = :kind', { kind: f.kind });
    if (f.country != null)
      qb.andWhere('o.country = :country', { country: countryFilter(f.country, 'filter.country') });
    if (f.nameContains != null) {
      const text = f.nameContains.trim();
      if (!text) throw badInput('Argument "filter.nameContains" must not be empty', 'filter.nameContains');
      const pattern = likePattern(text);
      qb.andWhere(
        new Brackets((w) => {
          for (const l of LANGUAGES)
            w.orWhere(
              `LOWER(o.name${l[0].toUpperCase()}${l.slice(1)}) LIKE LOWER(:pattern) ESCAPE '${LIKE_ESCAPE}'`,
              { pattern },
            );
        }),
      );
    }
    return orderedConnection(qb, args, []);
  },
};
