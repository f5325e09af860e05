import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { BACKENDS, MODULES, seededStorage } from '../support/system';

/*
 * The BudgetFacts migration on a database that already holds budget lines (a deployment upgraded in place):
 * every line of the Tunisian nomenclature gets the same dimension row, and its codes the same dictionary
 * entries, as the importer writes for a fresh database. Proven by seeding through the importer, then clearing
 * what the migration creates and running it again.
 */

const dimensions = (ds: DataSource) =>
  ds.query(
    `SELECT line_id, dimension, type, is_primary, scheme, code, depth, level_1, level_2, level_3, path, position
     FROM budget_line_dimensions ORDER BY line_id, dimension`,
  );
const codes = (ds: DataSource) =>
  ds.query(`SELECT scheme, code, type, depth, parent_code FROM budget_codes ORDER BY scheme, code`);

describe.each(BACKENDS)('the BudgetFacts migration on %s', (backend) => {
  jest.setTimeout(120_000);

  it('gives stored Tunisian lines the dimension and codes the importer gives them', async () => {
    const { storage, drop } = await seededStorage(backend, ['budgets']);
    const ds = await prepareSubgraph(MODULES.budgets, storage.budgets, { seed: 'never' });
    try {
      const seededDimensions = await dimensions(ds);
      const seededCodes = await codes(ds);
      const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM budget_lines`);
      expect(seededDimensions).toHaveLength(Number(n));
      expect(seededCodes.length).toBeGreaterThan(0);
      // Back to before the migration (it drops its tables and the measure column), then forward again: the
      // migrations after it first.
      const since = ds.migrations.length - ds.migrations.findIndex((m) => m.name?.startsWith('BudgetFacts'));
      for (let i = 0; i < since; i++) await ds.undoLastMigration({ transaction: 'each' });
      await ds.runMigrations({ transaction: 'each' });
      expect(await dimensions(ds)).toEqual(seededDimensions);
      expect(await codes(ds)).toEqual(seededCodes);
    } finally {
      await ds.destroy();
      await drop();
    }
  });
});
