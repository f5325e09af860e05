import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { runImport } from '@civic/common/import/pipeline';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import {
  COMMITMENT_BUDGET_LINKS,
  linksDatasetOf,
  parseShare,
} from '@civic/subgraphs/budgets/src/import/commitment-budget-links';

// The cells of a links file: every row here is refused before its line is looked up, so the dry runs open
// no database. What is written, the lookups of lines, --prune and the CLI are in
// test/e2e/import-commitment-budget-links.test.ts.

const dir = mkdtempSync(join(tmpdir(), 'civic-links-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string): string {
  const path = join(dir, `links-${++n}.csv`);
  writeFileSync(path, content);
  return path;
}
const HEADER = 'commitment_id,budget_line_id,budget_id,line_code,direction,share,amount,note,source';
const noDatabase = null as unknown as DataSource;
const dry = (path: string) => {
  const importer = budgetsImporters.find((i) => i.kind === COMMITMENT_BUDGET_LINKS)!;
  return runImport(COMMITMENT_BUDGET_LINKS, path, [{ part: importer.part({}), ds: noDatabase }], {
    strict: false,
    dryRun: true,
    prune: false,
    batchSize: 2000,
    params: {},
  });
};

describe('commitment-budget-links: shares', () => {
  it('reads a fraction or a percentage as an exact fraction', () => {
    expect(parseShare('0.25')).toEqual({ share: '0.25' });
    expect(parseShare('25%')).toEqual({ share: '0.25' });
    expect(parseShare('25 %')).toEqual({ share: '0.25' });
    expect(parseShare('100%')).toEqual({ share: '1' });
    expect(parseShare('1')).toEqual({ share: '1' });
    expect(parseShare('33.3333%')).toEqual({ share: '0.333333' });
    expect(parseShare('0.000001')).toEqual({ share: '0.000001' });
  });

  it('refuses what is not a share greater than 0 and at most 1, never rounding', () => {
    expect(parseShare('0')).toEqual({ reason: expect.stringMatching(/greater than 0/) });
    expect(parseShare('1.5')).toEqual({ reason: expect.stringMatching(/at most 1/) });
    expect(parseShare('101%')).toEqual({ reason: expect.stringMatching(/at most 1/) });
    expect(parseShare('0.0000001')).toEqual({ reason: expect.stringMatching(/more than 6 decimals/) });
    expect(parseShare('0,25')).toEqual({ reason: expect.stringMatching(/is not a share/) });
    expect(parseShare('-0.2')).toEqual({ reason: expect.stringMatching(/is not a share/) });
  });
});

describe('commitment-budget-links: rows refused for their cells', () => {
  it('reports file, line, column, value and reason for each problem of a row', async () => {
    const path = file(
      [
        HEADER,
        'MO 12,tn-34012-2018-EXP-1.01100.0001.000,,,,,,,',
        ',,,,,,,0.5,',
        'TN0001,,tn-34012-2018,,,,,,',
        'TN0001,tn-34012-2018-EXP-1.01100.0001.000,,,,0.5,100,,',
        'TN0001,tn-34012-2018-EXP-1.01100.0001.000,,,,2,,,',
        'TN0001,tn-34012-2018-EXP-1.01100.0001.000,,,,,-3,,',
        'TN0001,,tn-34012-2018,1.01100.0001.000,sideways,,,,',
        `TN0001,tn-34012-2018-EXP-1.01100.0001.000,,,,,,${'x'.repeat(1025)},`,
      ].join('\n'),
    );
    const r = await dry(path);
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual({ read: 8, valid: 0, refused: 8 });
    expect(r.refused.map(({ line, column, value }) => ({ line, column, value }))).toEqual([
      { line: 2, column: 'commitment_id', value: 'MO 12' },
      { line: 3, column: 'commitment_id', value: '' },
      { line: 3, column: 'budget_line_id', value: '' },
      { line: 4, column: 'line_code', value: '' },
      { line: 5, column: 'amount', value: '100' },
      { line: 6, column: 'share', value: '2' },
      { line: 7, column: 'amount', value: '-3' },
      { line: 8, column: 'direction', value: 'sideways' },
      { line: 9, column: 'note', value: `${'x'.repeat(200)}…` },
    ]);
    expect(r.refused.every((i) => i.file === path)).toBe(true);
    expect(r.refused[0].reason).toMatch(/is not a commitment id/);
    expect(r.refused[2].reason).toBe('no budget line: give budget_line_id, or budget_id and line_code');
    expect(r.refused[4].reason).toBe('a share and an amount: give one of them (or neither)');
  });

  it('refuses a file without a commitment_id column', async () => {
    const r = await dry(file('budget_line_id,share\ntn-34012-2018-EXP-1.01100.0001.000,1\n'));
    expect(r.outcome).toBe('refused');
    expect(r.refused[0]).toMatchObject({ column: 'commitment_id' });
  });

  it('files links under --dataset, else the file name', () => {
    expect(linksDatasetOf('/x/bou-arada-links.csv', {})).toBe('bou-arada-links');
    expect(linksDatasetOf('/x/bou-arada-links.csv', { dataset: 'Bou Arada 2018' })).toBe('Bou Arada 2018');
  });
});
