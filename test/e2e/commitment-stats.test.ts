import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { datasetPath, SOURCES } from '@civic/formats/sources';
import { queryStats, storedGrain } from '@civic/subgraphs/commitments/src/aggregates';
import type { CommitmentDimension } from '@civic/subgraphs/commitments/src/generated/resolvers-types';
import { importers as commitmentsImporters } from '@civic/subgraphs/commitments/src/import';
import { generateCommitments } from '@civic/subgraphs/commitments/src/synthetic';
import { importWith } from '../support/imports';
import { BACKENDS, MODULES, seededStorage, type Backend } from '../support/system';

/*
 * The stored commitment counts (stats.ts) against the commitments: every grouping they serve must give the
 * very rows counted from the commitments (groups, counts, order), on the real data with synthetic
 * commitments, and after an import that changes and removes commitments (pruned).
 */

const dir = mkdtempSync(join(tmpdir(), 'civic-commitment-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCALES = ['POTENTIAL_IMPACT', 'COMPLETION_MIDTERM', 'COMPLETION_END_OF_TERM'] as const;

/** Every grouping the stored counts serve (all subsets of country and the scales, in two orders; the multi-valued ones). */
function groupings(): CommitmentDimension[][] {
  const base: CommitmentDimension[] = ['COUNTRY', ...SCALES];
  const out: CommitmentDimension[][] = [];
  for (let mask = 0; mask < 1 << base.length; mask++) {
    const g = base.filter((_, i) => mask & (1 << i));
    out.push(g, [...g].reverse());
  }
  for (const d of ['POLICY_AREA', 'OGP_VALUE'] as const) out.push([d], [d, 'COUNTRY'], ['COUNTRY', d]);
  return out;
}

async function expectExact(ds: DataSource): Promise<void> {
  for (const groupBy of groupings()) {
    expect(storedGrain(groupBy, {})).not.toBeNull();
    const stored = await queryStats(ds, groupBy, { filter: {}, maxGroups: 10000 });
    const rows = await queryStats(ds, groupBy, { filter: {}, maxGroups: 10000, fromRows: true });
    expect({ groupBy, rows: stored }).toEqual({ groupBy, rows });
  }
}

test('the stored counts serve only what they hold', () => {
  expect(storedGrain(['COUNTRY', 'COMPLETION_END_OF_TERM'], null)).toBe('');
  expect(storedGrain(['POLICY_AREA'], undefined)).toBe('POLICY_AREA');
  expect(storedGrain(['COUNTRY'], { country: 'MA' })).toBeNull();
  expect(storedGrain(['COUNTRY'], { search: 'budget' })).toBeNull();
  expect(storedGrain(['POLICY_AREA', 'OGP_VALUE'], null)).toBeNull();
  expect(storedGrain(['POLICY_AREA', 'COMPLETION_END_OF_TERM'], null)).toBeNull();
  expect(storedGrain(['MEMBER'], null)).toBeNull();
  expect(storedGrain(['THEME', 'COUNTRY'], null)).toBeNull();
});

describe.each(BACKENDS)('stored commitment counts on %s', (backend: Backend) => {
  let ds: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await seededStorage(backend, ['commitments']);
    drop = fresh.drop;
    ds = await prepareSubgraph(MODULES.commitments, fresh.storage.commitments, { seed: 'never' });
  }, 240_000);
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('equal the counts of the commitments, real and synthetic', async () => {
    await expectExact(ds);
    await generateCommitments(ds, 1, 7);
    await expectExact(ds);
  }, 240_000);

  it('equal the counts after an import changes and removes commitments (pruned)', async () => {
    const text = readFileSync(datasetPath(SOURCES.ogpCommitments.file), 'utf8');
    const records = parse(text, { bom: true }) as string[][];
    const [header, ...rows] = records;
    const completion = header.indexOf('Completion (End Of Term)');
    expect(completion).toBeGreaterThan(0);
    // One commitment's end-of-term completion changed, the first 40 gone.
    const changed = rows.slice(40).map((r, i) => {
      if (i === 0)
        return r.map((c, j) => (j === completion ? (c === 'Complete' ? 'Limited' : 'Complete') : c));
      return r;
    });
    const file = join(dir, 'ogp-commitments-export.csv');
    writeFileSync(file, stringify([header, ...changed]));
    const report = await importWith(commitmentsImporters, 'ogp-commitments', ds, file, {
      prune: true,
      batchSize: 100,
    });
    expect(report.parts[0].pruned).toBeGreaterThan(0);
    await expectExact(ds);
  }, 240_000);
});
