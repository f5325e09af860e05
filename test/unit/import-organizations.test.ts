import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { fileFacts } from '@civic/common/import/file';
import { runImport } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { datasetPath, SOURCES } from '@civic/formats/sources';
import { adminDivisionsImporter, levelOf } from '@civic/subgraphs/organizations/src/import/admin-divisions';
import { readJsonRecords, type JsonRecord } from '@civic/subgraphs/organizations/src/import/json';
import { datasetOf, organizationsImporter } from '@civic/subgraphs/organizations/src/import/organizations';
import {
  parseCountry,
  parseJoined,
  parseKey,
  parseKind,
  parseOgpType,
} from '@civic/subgraphs/organizations/src/import/values';
import { writeAdminDivisionsFile } from '../bench/files/admin-divisions';
import { writeOrganizationsFile } from '../bench/files/organizations';

const value = <T>(p: { value: T } | { problem: string }) =>
  'value' in p ? p.value : `problem: ${p.problem}`;

describe('organization values', () => {
  it('reads kinds by name or synonym, in any case', () => {
    const kinds = [
      'GOVERNMENT',
      'civil_society',
      'Civil society',
      'NGO',
      'cso',
      'ONG',
      'association',
      'public',
    ];
    expect(kinds.map((k) => value(parseKind(k)))).toEqual([
      'GOVERNMENT',
      'CIVIL_SOCIETY',
      'CIVIL_SOCIETY',
      'CIVIL_SOCIETY',
      'CIVIL_SOCIETY',
      'CIVIL_SOCIETY',
      'CIVIL_SOCIETY',
      'GOVERNMENT',
    ]);
    expect(
      ['university', 'Think tank', 'IGO', 'private sector', 'Other'].map((k) => value(parseKind(k))),
    ).toEqual(['ACADEMIC', 'ACADEMIC', 'INTERNATIONAL', 'PRIVATE', 'OTHER']);
    expect(value(parseKind('Cooperative'))).toMatch(/^problem: unknown kind \(expected one of GOVERNMENT, /);
  });

  it('reads countries as alpha-2, alpha-3 or a name in English, French or Arabic', () => {
    const given = [
      'MA',
      'tn',
      'MAR',
      'tun',
      'Morocco',
      'Maroc',
      'المغرب',
      'Tunisie',
      "Côte d'Ivoire",
      'cote divoire',
    ];
    expect(given.map((c) => value(parseCountry(c)))).toEqual([
      'MA',
      'TN',
      'MA',
      'TN',
      'MA',
      'MA',
      'MA',
      'TN',
      'CI',
      'CI',
    ]);
    expect(['XK', 'XKX', 'Kosovo'].map((c) => value(parseCountry(c)))).toEqual(['XK', 'XK', 'XK']);
    for (const bad of ['Atlantis', 'ZZ', 'ZZZ', 'M'])
      expect(value(parseCountry(bad))).toMatch(/^problem: unknown country/);
  });

  it('reads OGP membership types and dates of reduced precision', () => {
    expect(['national', 'LOCAL', 'Local'].map((t) => value(parseOgpType(t)))).toEqual([
      'NATIONAL',
      'LOCAL',
      'LOCAL',
    ]);
    expect(value(parseOgpType('member'))).toMatch(/^problem/);
    expect(['2021', '2022-05', '2024-02-29'].map((d) => value(parseJoined(d)))).toEqual([
      '2021',
      '2022-05',
      '2024-02-29',
    ]);
    for (const bad of ['2022-13', '2023-02-29', 'May 2022', '22-05', '2022/05'])
      expect(value(parseJoined(bad))).toMatch(/^problem: not a date/);
  });

  it('reads keys without spaces, at most 191 characters', () => {
    expect(value(parseKey(' org-x '))).toBe('org-x');
    expect(value(parseKey('org x'))).toBe('problem: a key cannot contain spaces');
    expect(value(parseKey('x'.repeat(192)))).toMatch(/^problem: too long/);
  });

  it('names the dataset after the file unless --dataset says', () => {
    expect(datasetOf('data/cso-2025.csv', {})).toBe('cso-2025');
    expect(datasetOf('x/list.ndjson', {})).toBe('list');
    expect(datasetOf('x/list.csv', { dataset: 'CSO list' })).toBe('CSO list');
    expect(() => organizationsImporter.part({ dataset: ' ' })).toThrow('--dataset must not be empty');
  });
});

describe('readJsonRecords', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'json-records-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function read(name: string, content: string | Buffer, keys: string[] = ['items']) {
    const path = join(dir, name);
    writeFileSync(path, content);
    const records: JsonRecord[] = [];
    const refused: ImportIssue[][] = [];
    const warnings: ImportIssue[] = [];
    let fileRefused: unknown = null;
    try {
      for await (const r of readJsonRecords(
        path,
        name,
        await fileFacts(path),
        { arrayKeys: keys },
        {
          refuse: (i) => refused.push(i),
          warn: (i) => warnings.push(i),
        },
      ))
        records.push(r);
    } catch (err) {
      fileRefused = (err as { issue?: unknown }).issue ?? err;
    }
    return { records, refused, warnings, fileRefused };
  }

  it('gives each record with the line its value starts on, skipping other keys', async () => {
    const { records, refused } = await read(
      'a.json',
      '\uFEFF{"meta": {"n": [1, {"x": "]"}]}, "count": 3,\n "items": [\n  {"a": "x,]}\\"y"},\n  3, "s",\n  {"c": [1,\n2]}\n], "tail": null}\n',
    );
    expect(refused).toEqual([]);
    expect(records).toEqual([
      { line: 3, value: { a: 'x,]}"y' } },
      { line: 4, value: 3 },
      { line: 4, value: 's' },
      { line: 5, value: { c: [1, 2] } },
    ]);
  });

  it('refuses a record that is not JSON by itself with the line of the error, and reads on', async () => {
    const { records, refused } = await read('b.json', '[\n{"id": 1},\n{"id": 2,\n "x": 1,\n}, {"id": 3}\n]');
    expect(records.map((r) => r.value)).toEqual([{ id: 1 }, { id: 3 }]);
    expect(refused).toEqual([
      [
        {
          file: 'b.json',
          line: 5,
          column: null,
          value: '}',
          reason: 'invalid JSON: Expected double-quoted property name',
        },
      ],
    ]);
  });

  it.each([
    [
      'c.json',
      '[\n{"id": 1}\n{"id": 2}\n]',
      3,
      'invalid JSON: expected "," or "]" after the record that starts on line 2, found "{" (a missing comma between records?)',
    ],
    [
      'd.json',
      '[\n{"id": 1},\n{"id": 2}\n',
      4,
      'invalid JSON: the file ends before the JSON is complete (the records array is not closed)',
    ],
    [
      'e.json',
      '[\n{"id": "abc},\n{"id": 2}\n]',
      2,
      'invalid JSON: a string opened on line 2 is not closed on its line',
    ],
    [
      'f.json',
      '[\n{"id": 1},\n]',
      3,
      'invalid JSON: a comma before "]": the last record is followed by a comma',
    ],
    ['g.json', '[{"id": 1}]\nx', 2, 'invalid JSON: text after the end of the JSON value: "x"'],
    [
      'h.json',
      '{"other": []}',
      1,
      'no records: expected an array of records [ ... ] or an object with a "items" array',
    ],
    ['i.json', '[\n{"a": [1}\n]', 2, 'invalid JSON: "}" closes the "[" opened on line 2'],
    [
      'j.json',
      'id,name\n',
      1,
      'invalid JSON: the file starts with "i": expected an array of records [ ... ] or an object with a "items" array',
    ],
  ])(
    'refuses %s as a whole, with the line, before giving out any record',
    async (name, text, line, reason) => {
      const { records, fileRefused } = await read(name, text);
      expect(records).toEqual([]);
      expect(fileRefused).toEqual({ line, column: null, value: null, reason });
    },
  );

  it('refuses an empty file, an empty array, and a UTF-16 file', async () => {
    expect((await read('k.json', '')).fileRefused).toMatchObject({ reason: 'the file is empty' });
    expect((await read('l.json', ' [ ] ')).fileRefused).toMatchObject({ reason: 'the file has no records' });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{"a": 1}]', 'utf16le')]);
    expect((await read('m.json', utf16)).fileRefused).toMatchObject({
      reason: expect.stringContaining('UTF-16'),
    });
  });

  it('refuses the record holding bytes that are not UTF-8, naming its field', async () => {
    const bytes = Buffer.concat([
      Buffer.from('[\n{"id": "a"},\n{"id": "b", "names": {"fr": "Soci'),
      Buffer.from([0xe9]),
      Buffer.from('t"}}\n]'),
    ]);
    const { records, refused } = await read('n.json', bytes);
    expect(records).toEqual([{ line: 2, value: { id: 'a' } }]);
    expect(refused).toEqual([
      [
        expect.objectContaining({
          line: 3,
          column: 'names.fr',
          value: 'Soci\uFFFDt',
          reason: expect.stringMatching(/^not valid UTF-8/),
        }),
      ],
    ]);
  });

  it('reads JSON Lines: one record per non-blank line', async () => {
    const { records, refused } = await read('o.jsonl', '{"id": 1}\n\n{"id": 2,}\r\n{"id": "é"}');
    expect(records).toEqual([
      { line: 1, value: { id: 1 } },
      { line: 4, value: { id: 'é' } },
    ]);
    expect(refused.map((r) => r[0].line)).toEqual([3]);
  });

  it('finds every record of a large file across read chunks, escapes and multibyte text included', async () => {
    const pieces = ['a\\"b', '\\\\', 'بني ملال\\n', '{[}]', ',', 'x\\u00e9', '"'];
    const items = Array.from({ length: 30_000 }, (_, i) => ({
      id: `r${i}`,
      s: pieces[i % 7].repeat(i % 5),
      n: [i, { k: null }],
    }));
    const text = `{"x": 1,\n "items": [\n${items.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n]}\n`;
    const { records, refused } = await read('big.json', text);
    expect(refused).toEqual([]);
    expect(records).toHaveLength(items.length);
    expect(records.map((r) => r.value)).toEqual(items);
    expect(records.every((r, i) => r.line === i + 3)).toBe(true);
  });
});

describe('admin-divisions levels', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'levels-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('tells the level by the records key, the file name, then the records fields', () => {
    expect(levelOf(datasetPath(SOURCES.moroccoRegions.file))?.level).toBe('region');
    expect(levelOf(datasetPath(SOURCES.moroccoDivisions.file))?.level).toBe('division');
    expect(levelOf(datasetPath(SOURCES.moroccoCommunes.file))?.level).toBe('commune');
    expect(levelOf(file('regions.json', '{"communes": []}'))?.level).toBe('commune');
    expect(levelOf(file('prefectures-2025.json', '[]'))?.level).toBe('division');
    expect(levelOf(file('units.json', '[{"id": "COM_1", "region_division_id": "DIV_1"}]'))?.level).toBe(
      'commune',
    );
    expect(levelOf(file('units2.json', '[{"id": "DIV_1", "region_id": "REGION_1"}]'))?.level).toBe(
      'division',
    );
    expect(levelOf(file('units3.json', '[{"id": "REGION_1"}]'))?.level).toBe('region');
    expect(levelOf(file('units4.json', '{"units": []}'))).toBeNull();
  });
});

describe('benchmark files', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bench-files-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A dry run reads and validates without touching storage.
  const dryRun = (kind: string, path: string, params: Record<string, string>, part: unknown) =>
    runImport(kind, path, [{ part: part as never, ds: {} as DataSource }], {
      strict: false,
      dryRun: true,
      prune: false,
      batchSize: 1000,
      params,
    });

  it('writes a valid organizations file: every row validates', async () => {
    const { path, params } = await writeOrganizationsFile(dir, 3000, 7);
    const report = await dryRun('organizations', path, params, organizationsImporter.part(params));
    expect(report.outcome).toBe('validated');
    expect(report.rows).toEqual({ read: 3000, valid: 3000, refused: 0 });
    expect(report.warnings).toEqual([]);
  });

  it('writes a valid communes file: every row validates', async () => {
    const { path, params } = await writeAdminDivisionsFile(dir, 3000, 7);
    const report = await dryRun('admin-divisions', path, params, adminDivisionsImporter.part(params));
    expect(report.outcome).toBe('validated');
    expect(report.rows).toEqual({ read: 3000, valid: 3000, refused: 0 });
  });
});
