import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import {
  OGP_EXPORT_HEADER,
  OGP_POLICY_AREAS,
  readOgpExport,
  readOgpExportRecords,
  validateOgpRecord,
} from '@civic/formats/ogp-export';
import { fileFacts } from '@civic/common/import/file';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { ogpCommitmentsPart } from '@civic/subgraphs/commitments/src/import/ogp-commitments';
import { ogpOrganizationsPart } from '@civic/subgraphs/organizations/src/import/ogp-commitments';

const CSV = datasetPath(SOURCES.ogpCommitments.file);
const text = readFileSync(CSV, 'utf8');
const header = (parse(text, { bom: true, to_line: 1 }) as string[][])[0];
const raw = parse(text, { bom: true, columns: true }) as Record<string, string>[];
const mo0012 = raw.find((r) => r['Commitment Unique Identifier'] === 'MO0012')!;

const dir = mkdtempSync(join(tmpdir(), 'civic-ogp-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An import context that keeps what it is told. */
async function context(path = CSV) {
  const refused: ImportIssue[][] = [];
  const warnings: ImportIssue[] = [];
  const ctx: ImportContext = {
    file: 'export.csv',
    path,
    facts: await fileFacts(path),
    importedAt: '2025-01-01T00:00:00.000Z',
    options: { strict: false, dryRun: false, prune: false, batchSize: 100, params: {} },
    provenance: (source, line, record, digest) => ({
      sourceDataset: source.dataset,
      sourceUrl: source.url ?? null,
      sourceLicense: source.license ?? null,
      sourceRecord: record,
      sourceFile: 'export.csv',
      sourceChecksum: 'c',
      sourceLine: line,
      importedAt: '2025-01-01T00:00:00.000Z',
      rowDigest: digest,
      sourceAdjustments: null,
    }),
    issue: (line, column, value, reason) => ({
      file: 'export.csv',
      line,
      column,
      value: value === null || value === undefined ? null : String(value),
      reason,
    }),
    refuse: (i) => void refused.push(i),
    warn: (i) => void warnings.push(i),
  };
  return { ctx, refused, warnings };
}

/** MO0012's cells (its full text short), some replaced. */
const cells = (over: Record<string, string>) => ({ ...mo0012, 'Full Text': 'Budget transparency.', ...over });

describe('the export layout the importer knows', () => {
  it('is the real export’s header, 171 columns, with its 86 policy areas', () => {
    expect(OGP_EXPORT_HEADER).toEqual(header);
    expect(OGP_EXPORT_HEADER).toHaveLength(171);
    const first = header.indexOf('Anti-Corruption and Integrity');
    const last = header.indexOf('Money in Politics');
    expect(OGP_POLICY_AREAS).toEqual(header.slice(first, last + 1));
    expect(OGP_POLICY_AREAS).toHaveLength(86);
  });

  it('reads every record of the real file with no warning, and "Specificity" apart from "_Specificity"', async () => {
    const { ctx, refused, warnings } = await context();
    const rows: SourceRow<Record<string, string>>[] = [];
    for await (const r of readOgpExportRecords(ctx)) rows.push(r);
    expect([rows.length, refused, warnings]).toEqual([558, [], []]);
    const al = rows.find((r) => r.data['Commitment Unique Identifier'] === 'AL0002')!;
    expect(al.line).toBe(2);
    expect([al.data.Specificity, al.data._Specificity]).toEqual(['Medium', '2']);
    expect([al.data['Potential Impact'], al.data['_Potential Impact']]).toEqual(['Moderate', '2']);
  });

  it('finds the columns by exact name whatever their order', async () => {
    const columns = [...header].reverse();
    const path = join(dir, 'reversed.csv');
    writeFileSync(path, stringify([columns, columns.map((c) => mo0012[c])]));
    const { ctx, refused, warnings } = await context(path);
    const rows: SourceRow<Record<string, string>>[] = [];
    for await (const r of readOgpExportRecords(ctx)) rows.push(r);
    expect([refused, warnings]).toEqual([[], []]);
    expect(rows[0].data).toEqual(Object.fromEntries(header.map((h) => [h, mo0012[h]])));
  });
});

describe('validateOgpRecord: the seed’s validator, for the importer', () => {
  it('reads MO0012 as the seed does', async () => {
    const { ctx, refused } = await context();
    const row = validateOgpRecord(2890, mo0012, ctx);
    expect(refused).toEqual([]);
    expect(row).toEqual(readOgpExport().rows.find((r) => r.id === 'MO0012'));
  });

  it('refuses what the seed refuses, in the same words, naming the column and value', async () => {
    const cases: [Record<string, string>, string, string, string][] = [
      [
        { 'Commitment Unique Identifier': '' },
        'Commitment Unique Identifier',
        '',
        'no "Commitment Unique Identifier"',
      ],
      [{ 'Action Plan ID': 'NA' }, 'Action Plan ID', 'NA', 'no "Action Plan ID"'],
      [{ 'Commitment Title': '' }, 'Commitment Title', '', 'no "Commitment Title"'],
      [
        { Code: 'ZZZ', 'Country/Locality': 'Atlantis' },
        'Code',
        'ZZZ',
        'member Code "ZZZ" is not an ISO 3166-1 alpha-3 code',
      ],
      [
        { 'National Or Local': 'Regional' },
        'National Or Local',
        'Regional',
        'unknown "National Or Local" value "Regional"',
      ],
      [
        { 'Commitment Unique Identifier': `X${'0'.repeat(64)}` },
        'Commitment Unique Identifier',
        `X${'0'.repeat(64)}`,
        '"Commitment Unique Identifier" is 65 characters long; the column holds 64',
      ],
    ];
    for (const [over, column, value, reason] of cases) {
      const { ctx, refused, warnings } = await context();
      expect(validateOgpRecord(7, cells(over), ctx)).toBeNull();
      expect(refused).toEqual([[{ file: 'export.csv', line: 7, column, value, reason }]]);
      expect(warnings).toEqual([]);
    }
    const { ctx, refused } = await context();
    expect(validateOgpRecord(7, cells({ 'Full Text': 'é'.repeat(40000) }), ctx)).toBeNull();
    expect(refused[0][0].reason).toBe(
      '"Full Text" is 80000 bytes in UTF-8; the description column holds 65535',
    );
  });

  it('warns about unreadable cells and loads the row with them unknown', async () => {
    const { ctx, refused, warnings } = await context();
    const row = validateOgpRecord(
      9,
      cells({
        'Start Date': 'Sometime',
        Specificity: 'Very high',
        'Year Of Submission': '20x8',
        Audits: '2',
      }),
      ctx,
    );
    expect(refused).toEqual([]);
    expect(row).toMatchObject({
      specificity: null,
      yearOfSubmission: null,
      startDate: { iso: null, text: 'Sometime' },
    });
    expect(row!.policyAreas).not.toContain('Audits');
    expect(warnings.map((w) => [w.line, w.column, w.value]).sort()).toEqual(
      [
        [9, 'Audits', '2'],
        [9, 'Specificity', 'Very high'],
        [9, 'Start Date', 'Sometime'],
        [9, 'Year Of Submission', '20x8'],
      ].sort(),
    );
  });
});

describe('the two parts of the import', () => {
  const partsOf = () =>
    [ogpOrganizationsPart(), ogpCommitmentsPart()] as ImporterPart<Record<string, string>, unknown>[];

  it('refuse the same rows with the same issues (the pipeline reports each once)', async () => {
    const rows = [
      { line: 2, data: cells({ 'Commitment Unique Identifier': 'T1' }) },
      { line: 3, data: cells({ 'Commitment Unique Identifier': '' }) },
      {
        line: 4,
        data: cells({ 'Commitment Unique Identifier': 'T3', Code: 'ZZZ', 'Country/Locality': 'X' }),
      },
      { line: 5, data: cells({ 'Commitment Unique Identifier': 'T1' }) },
    ];
    const seen: ImportIssue[][][] = [];
    for (const part of partsOf()) {
      const { ctx, refused } = await context();
      const valid: number[] = [];
      for (const r of rows) if ((await part.validate(r, ctx)) !== null) valid.push(r.line);
      expect(valid).toEqual([2]);
      seen.push(refused);
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0].map((i) => [i[0].line, i[0].reason])).toEqual([
      [3, 'no "Commitment Unique Identifier"'],
      [4, 'member Code "ZZZ" is not an ISO 3166-1 alpha-3 code'],
      [5, 'duplicate key: the same record as line 2'],
    ]);
  });

  it('derive a plan whose digest does not depend on the row naming it, and one member per country', async () => {
    const { ctx } = await context();
    const rowsOfPlan = raw.filter((r) => r['Action Plan ID'] === 'AP_MAR01').slice(0, 2);
    expect(rowsOfPlan).toHaveLength(2);
    const com = ogpCommitmentsPart();
    const plans: { id: string; rowDigest: string; sourceLine: number }[] = [];
    for (const [i, r] of rowsOfPlan.entries())
      plans.push(
        ((await com.validate({ line: 10 + i, data: r }, ctx)) as { plan: (typeof plans)[number] }).plan,
      );
    expect(plans.map((p) => [p.id, p.sourceLine])).toEqual([
      ['AP_MAR01', 10],
      ['AP_MAR01', 11],
    ]);
    expect(plans[0].rowDigest).toBe(plans[1].rowDigest);
    // The member: the same content from either row; its provenance cites the row naming it.
    const org = ogpOrganizationsPart();
    const members: Record<string, unknown>[] = [];
    for (const [i, r] of rowsOfPlan.entries())
      members.push({ ...(await org.validate({ line: 20 + i, data: r }, ctx))!.named[0].organization });
    const content = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).filter(([k]) => !/^(source(Line|Record)|rowDigest)$/.test(k)));
    expect(members[0]).toMatchObject({ id: 'gov-ma', nameFr: 'Maroc', nameAr: 'المغرب', sourceLine: 20 });
    expect(content(members[0])).toEqual(content(members[1]));
  });
});
