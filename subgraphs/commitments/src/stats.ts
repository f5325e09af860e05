import type { EntityManager } from 'typeorm';
import { binary, type Queryable } from '@civic/common/dialect';

/*
 * The commitment counts a dashboard asks of every commitment (issue 11), kept beside them so
 * `commitmentStats` over all 100,000 commitments reads a few thousand rows instead: counts per country (of
 * the commitment's action plan) and completion and impact scales, and per country and policy area or OGP
 * value. Rebuilt whole by {@link refreshCommitmentStats}, in the transaction of every writer of commitments,
 * action plans, policy areas or OGP values (the importers' batches and pruning, the generator), so they are
 * always the counts of the rows (test/e2e/commitment-stats.test.ts compares them on both backends).
 */

export const STAT_CELLS = 'commitment_stat_cells';

/**
 * The multi-valued dimensions a cell grain holds (a commitment counts once per area or value, as
 * `queryStats` counts it): the table joined and the column read.
 */
export const STAT_GRAINS = {
  POLICY_AREA: { table: 'commitment_policy_areas', column: 'policy_area' },
  OGP_VALUE: { table: 'commitment_ogp_values', column: 'value' },
} as const;

/**
 * Recomputes every stat cell from the commitments (one DELETE and three INSERT … SELECT … GROUP BY over all
 * of them: a few hundred milliseconds at 100,000 commitments, paid once per import batch).
 *
 * - grain '': by whether the commitment's action plan exists (`planned`: a group by COUNTRY joins the plan
 *   and leaves out commitments without one), its country, and its three scales.
 * - grain POLICY_AREA / OGP_VALUE: by `planned`, country and the area or value (null for a commitment with
 *   none), counting each commitment once per area.
 */
export async function refreshCommitmentStats(m: EntityManager | Queryable): Promise<void> {
  const q = (sql: string) => (m as EntityManager).query(sql);
  await q(`DELETE FROM ${STAT_CELLS}`);
  const planned = 'CASE WHEN sp.id IS NULL THEN 0 ELSE 1 END';
  await q(
    `INSERT INTO ${STAT_CELLS} (grain, planned, country, value, potential_impact, completion_midterm, completion_end_of_term, n)
     SELECT '', ${planned} AS k0, ${binary(m, 'sp.country')} AS k1, NULL, ${binary(m, 'c.potential_impact')} AS k2,
            ${binary(m, 'c.completion_midterm')} AS k3, ${binary(m, 'c.completion_end_of_term')} AS k4, COUNT(*)
     FROM commitments c LEFT JOIN action_plans sp ON sp.id = c.action_plan_id
     GROUP BY k0, k1, k2, k3, k4`,
  );
  for (const [grain, g] of Object.entries(STAT_GRAINS)) {
    await q(
      `INSERT INTO ${STAT_CELLS} (grain, planned, country, value, potential_impact, completion_midterm, completion_end_of_term, n)
       SELECT '${grain}', ${planned} AS k0, ${binary(m, 'sp.country')} AS k1, ${binary(m, `v.${g.column}`)} AS k2,
              NULL, NULL, NULL, COUNT(DISTINCT c.id)
       FROM commitments c LEFT JOIN action_plans sp ON sp.id = c.action_plan_id
       LEFT JOIN ${g.table} v ON v.commitment_id = c.id
       GROUP BY k0, k1, k2`,
    );
  }
}
