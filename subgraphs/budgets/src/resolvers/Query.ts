import { badInput } from '../../../../common/src/errors';
import { orderedConnection } from '../../../../common/src/ordering';
import { BudgetEntity } from '../entities/Budget';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  budget: (_, args, ctx) => ctx.loaders.budgetById.load(args.id),
  budgetLine: (_, args, ctx) => ctx.loaders.lineById.load(args.id),
  budgets: (_, args, ctx) => {
    const qb = ctx.db.getRepository(BudgetEntity).createQueryBuilder('b');
    const f = args.filter ?? {};
    if (f.organizationId != null) qb.andWhere('b.organizationId = :org', { org: f.organizationId });
    if (f.fiscalYear != null) qb.andWhere('b.fiscalYear = :year', { year: f.fiscalYear });
    if (f.currency != null) {
      if (!/^[A-Za-z]{3}$/.test(f.currency)) {
        throw badInput(
          `Argument "filter.currency" must be an ISO 4217 code such as "TND"; got "${f.currency}"`,
          'filter.currency',
        );
      }
      qb.andWhere('b.currency = :currency', { currency: f.currency.toUpperCase() });
    }
    return orderedConnection(qb, args, []);
  },
};
