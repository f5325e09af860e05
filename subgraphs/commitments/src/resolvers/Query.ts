import { countryFilter } from '../../../../common/src/filters';
import { orderedConnection } from '../../../../common/src/ordering';
import { ActionPlanEntity } from '../entities/ActionPlan';
import { CommitmentEntity } from '../entities/Commitment';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  commitment: (_, args, ctx) => ctx.loaders.commitmentById.load(args.id),
  actionPlan: (_, args, ctx) => ctx.loaders.actionPlanById.load(args.id),

  commitments: (_, args, ctx) => {
    const qb = ctx.db.getRepository(CommitmentEntity).createQueryBuilder('c');
    const f = args.filter ?? {};
    if (f.actionPlanId != null) qb.andWhere('c.actionPlanId = :plan', { plan: f.actionPlanId });
    if (f.memberId != null || f.country != null) {
      // Member and country are facts of the action plan: a semi-join inside this subgraph's own database.
      const plans = ctx.db.getRepository(ActionPlanEntity).createQueryBuilder('p').select('p.id');
      if (f.memberId != null) plans.andWhere('p.memberId = :member');
      if (f.country != null) plans.andWhere('p.country = :country');
      qb.andWhere(`c.actionPlanId IN (${plans.getQuery()})`, {
        member: f.memberId,
        country: f.country != null ? countryFilter(f.country, 'filter.country') : undefined,
      });
    }
    return orderedConnection(qb, args, []);
  },

  actionPlans: (_, args, ctx) => {
    const qb = ctx.db.getRepository(ActionPlanEntity).createQueryBuilder('p');
    const f = args.filter ?? {};
    if (f.memberId != null) qb.andWhere('p.memberId = :member', { member: f.memberId });
    if (f.country != null)
      qb.andWhere('p.country = :country', { country: countryFilter(f.country, 'filter.country') });
    return orderedConnection(qb, args, []);
  },
};
