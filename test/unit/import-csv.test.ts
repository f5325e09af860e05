import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRefused, readCsv, type CsvLayout, type CsvRecord } from '@civic/common/import/csv';
import { fileFacts } from '@civic/common/import/file';
import { exitStatus, formatIssue, type ImportIssue } from '@civic/common/import/report';
import { datasetPath } from '@civic/formats/sources';

const dir = mkdtempSync(join(tmpdir(), 'civic-csv-'));
let n = 0;

const LAYOUT: CsvLayout = {
  columns: [{ name: 'id', aliases: ['Identifier'], required: true }, { name: 'name' }, { name: 'amount' }],
};

/** Reads `content` as a CSV file with LAYOUT: the records, the refused issues (one array per record), warnings. */
async function read(content: string | Buffer, layout = LAYOUT) {
  const path = join(dir, `f${++n}.csv`);
  writeFileSync(path, content);
  const refused: ImportIssue[][] = [];
  const warnings: ImportIssue[] = [];
  const records: CsvRecord[] = [];
  const facts = await fileFacts(path);
  for await (const r of readCsv(path, 'f.csv', facts, layout, {
    refuse: (i) => refused.push(i),
    warn: (i) => warnings.push(i),
  }))
    records.push(r);
  return { records, refused, warnings, facts };
}

async function refusedFile(content: string | Buffer): Promise<FileRefused> {
  try {
    await read(content);
  } catch (err) {
    if (err instanceof FileRefused) return err;
    throw err;
  }
  throw new Error('the file was not refused');
}

describe('readCsv', () => {
  test('columns by header name in any order, aliases, BOM and CRLF; records keep the line they start on', async () => {
    const { records, refused, warnings } = await read(
      '\uFEFFname,Identifier,extra\r\n"Kef, El",a1,x\r\n\r\n"two\r\nlines",a2,y\r\nبلدية الكاف,a3,\r\n',
    );
    expect(refused).toEqual([]);
    expect(records).toEqual([
      { line: 2, values: { name: 'Kef, El', id: 'a1' } },
      { line: 4, values: { name: 'two\r\nlines', id: 'a2' } },
      { line: 6, values: { name: 'بلدية الكاف', id: 'a3' } },
    ]);
    expect(warnings).toEqual([
      { file: 'f.csv', line: 1, column: 'extra', value: null, reason: 'unknown column ignored' },
    ]);
  });

  test('CRLF: the line end never enters the last value, in any record of a batch (500 per parse)', async () => {
    const rows = Array.from({ length: 1001 }, (_, i) => `${i},n${i},${i % 2 ? '7' : '"7"'}`);
    const { records, refused } = await read(`id,name,amount\r\n${rows.join('\r\n')}\r\n`);
    expect(refused).toEqual([]);
    expect(records).toHaveLength(1001);
    expect(records.filter((r) => r.values.amount !== '7')).toEqual([]);
    // A quoted value's own line ends stay.
    const quoted = await read('id,name\r\n1,"two\r\nlines"\r\n');
    expect(quoted.records).toEqual([{ line: 2, values: { id: '1', name: 'two\r\nlines' } }]);
  });

  test('a broken quote refuses its record only: the records after it are read', async () => {
    const { records, refused } = await read('id,name\n1,"bad"q\n2,ok\n3,x"y\n4,"a ""quoted"" word"\n');
    expect(records.map((r) => [r.line, r.values.id, r.values.name])).toEqual([
      [3, '2', 'ok'],
      [5, '4', 'a "quoted" word'],
    ]);
    expect(refused.map((r) => [r[0].line, r[0].reason.split(':')[0]])).toEqual([
      [2, 'broken quoting'],
      [4, 'broken quoting'],
    ]);
    expect(refused[0][0].value).toBe('1,"bad"q');
  });

  test('a quote never closed is reported where it opens, and the lines after it are read again', async () => {
    const { records, refused } = await read('id,name\n1,"never closed\n2,b\n3,c\n');
    expect(records.map((r) => r.values.id)).toEqual(['2', '3']);
    expect(refused).toHaveLength(1);
    expect(refused[0][0]).toMatchObject({ line: 2, reason: expect.stringMatching(/never closed/) });
  });

  test('more values than the header has columns is refused; fewer are empty values', async () => {
    const { records, refused } = await read('id,name,amount\n1,a,b,c\n2,x\n');
    expect(refused[0][0]).toMatchObject({
      line: 2,
      reason: expect.stringMatching(/4 values but the header has 3/),
    });
    expect(records).toEqual([{ line: 3, values: { id: '2', name: 'x', amount: '' } }]);
  });

  test('bytes that are not UTF-8 refuse the record naming the column; other records load', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,name\n1,caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n2,ok\n'),
    ]);
    const { records, refused, facts } = await read(latin1);
    expect(facts.firstNonUtf8Line).toBe(2);
    expect(records.map((r) => r.values.id)).toEqual(['2']);
    expect(refused[0][0]).toMatchObject({
      line: 2,
      column: 'name',
      reason: expect.stringMatching(/not valid UTF-8/),
    });
  });

  test('files refused as a whole: empty, header only, blank, missing required column, UTF-16', async () => {
    expect((await refusedFile('')).message).toBe('the file is empty');
    expect((await refusedFile('id,name\n')).message).toBe('the file has a header but no rows');
    expect((await refusedFile('\n\n')).message).toMatch(/no header/);
    const missing = await refusedFile('name,amount\nx,1\n');
    expect(missing.issue).toMatchObject({ line: 1, column: 'id' });
    expect(missing.message).toMatch(/missing required column "id" \(the header has: name, amount\)/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,a\n', 'utf16le')]);
    expect((await refusedFile(utf16)).message).toMatch(/UTF-16/);
  });

  test('all-empty records are skipped, not refused', async () => {
    const { records, refused } = await read('id,name\n,,\n1,a\n , \n');
    expect(refused).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([3]);
  });

  test('the real OGP export streams whole: every record, the lines they start on increasing', async () => {
    const facts = await fileFacts(datasetPath('ogp/ogp-commitments-export.csv'));
    expect(facts.firstNonUtf8Line).toBeNull();
    expect(facts.checksum).toMatch(/^[0-9a-f]{64}$/);
    let count = 0;
    let last = 1;
    const refused: ImportIssue[][] = [];
    for await (const r of readCsv(
      datasetPath('ogp/ogp-commitments-export.csv'),
      'ogp.csv',
      facts,
      { columns: [{ name: 'id', aliases: ['Commitment Unique Identifier'], required: true }] },
      { refuse: (i) => refused.push(i), warn: () => undefined },
    )) {
      expect(r.line).toBeGreaterThan(last);
      last = r.line;
      count += 1;
    }
    expect(refused).toEqual([]);
    // Multi-line quoted values: fewer records than lines.
    expect(count).toBeGreaterThan(500);
    expect(last).toBeLessThanOrEqual(11637);
  });
});

describe('import report', () => {
  test('an issue reads file:line column = value: reason', () => {
    expect(
      formatIssue({ file: 'b.csv', line: 12, column: 'amount', value: '12,5', reason: 'malformed amount' }),
    ).toBe('b.csv:12 amount = "12,5": malformed amount');
    expect(
      formatIssue({ file: 'b.csv', line: null, column: null, value: null, reason: 'the file is empty' }),
    ).toBe('b.csv: the file is empty');
  });

  test('exit statuses', () => {
    expect(exitStatus('loaded')).toBe(0);
    expect(exitStatus('validated')).toBe(0);
    expect(exitStatus('failed')).toBe(1);
    expect(exitStatus('loaded-with-refusals')).toBe(2);
    expect(exitStatus('refused')).toBe(3);
  });
});
