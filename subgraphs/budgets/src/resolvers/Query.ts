import { badInput } from '../../../../common/src/errors';
import { rootConnection, type PageArgs } from '../../../../common/src/pagination';
import type { SubgraphContext } from '../../../../common/src/subgraph';
import { BudgetEntity } from '../entities/Budget';
import type { BudgetLoaders } from '../loaders';

type Ctx = SubgraphContext<BudgetLoaders>;

interface BudgetFilter {
  organizationId?: string | null;
  fiscalYear?: number | null;
  currency?: string | null;
}

export const QueryResolvers = {
  budget: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.budgetById.load(args.id),
  budgetLine: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.lineById.load(args.id),
  budgets: (_: unknown, args: PageArgs & { filter?: BudgetFilter | null }, ctx: Ctx) => {
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
    return rootConnection(qb, args);
  },
};
