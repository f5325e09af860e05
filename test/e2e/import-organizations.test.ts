import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { runImport, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { institutionId } from '@civic/formats/keys';
import type { Service } from '@civic/common/service';
import { organizationsImporter } from '@civic/subgraphs/organizations/src/import/organizations';
import { organizationsSubgraph } from '@civic/subgraphs/organizations/src/server';
import { runImportCli, type OrganizationRow } from '../support/import-cli';
import { BACKENDS, freshStorage, type Backend } from '../support/system';

/**
 * The `organizations` import kind end to end, on each backend: CSV in the gateway export's layout and JSON
 * in the GraphQL shape (the same records, the same stored rows), friendly column names, every kind of bad
 * row, re-import, a changed name found by search, missing records and --prune, dry run, strict, and the
 * CLI's exit statuses.
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'import', 'organizations');
const fixture = (name: string) => join(FIXTURES, name);

type Row = OrganizationRow;

const CONTENT = [
  'id',
  'kind',
  'classification',
  'country',
  'parent_id',
  'name_ar',
  'name_fr',
  'name_en',
  'name_es',
  'ogp_membership_type',
  'ogp_joined',
  'source_dataset',
  'row_digest',
] as const;

async function rows(ds: DataSource): Promise<Map<string, Row>> {
  const list: Row[] = await ds.query('SELECT * FROM organizations ORDER BY id');
  return new Map(list.map((r) => [r.id, r]));
}

async function identifiers(ds: DataSource, id: string): Promise<string[]> {
  const list: { scheme: string; value: string }[] = await ds.query(
    'SELECT scheme, value FROM organization_identifiers WHERE organization_id = ? ORDER BY scheme, value',
    [id],
  );
  return list.map((i) => `${i.scheme}:${i.value}`);
}

const content = (r: Row) => Object.fromEntries(CONTENT.map((c) => [c, r[c]]));

/**
 * Broken JSON files, written to a temporary folder by the tests (a formatter would refuse or rewrite them as
 * checked-in files): a missing comma between two records (a structural error: nothing loads), and a record
 * that is not valid by itself beside valid ones.
 */
const BROKEN_JSON = {
  'invalid.json': `[
  {
    "id": "org-one",
    "names": { "ar": "جمعية", "fr": "Association une" },
    "kind": "CIVIL_SOCIETY"
  },
  {
    "id": "org-two",
    "names": { "ar": "جمعية", "fr": "Association deux" },
    "kind": "CIVIL_SOCIETY"
  }
  {
    "id": "org-three",
    "names": { "fr": "Association trois" },
    "kind": "CIVIL_SOCIETY"
  }
]
`,
  'bad-record.json': `[
  {
    "id": "org-one",
    "names": { "ar": "جمعية", "fr": "Association une" },
    "kind": "CIVIL_SOCIETY"
  },
  {
    "id": "org-two",
    "names": { "ar": "جمعية", "fr": "Association deux" }
    "kind": "CIVIL_SOCIETY"
  },
  "not an object",
  {
    "id": "org-four",
    "names": { "fr": "Association quatre" },
    "kind": "CIVIL_SOCIETY",
    "country": "Narnia"
  }
]
`,
};

describe.each(BACKENDS)('npm run import -- organizations (%s)', (backend: Backend) => {
  let storage: Record<'organizations' | 'commitments' | 'budgets', StorageConfig>;
  let drop: () => Promise<void>;
  let ds: DataSource;
  let tmp: string;

  const run = (
    file: string,
    options: Partial<ImportOptions> = {},
    params: Record<string, string> = {},
  ): Promise<ImportReport> =>
    runImport('organizations', file, [{ part: organizationsImporter.part(params), ds }], {
      strict: false,
      dryRun: false,
      prune: false,
      batchSize: 2,
      params,
      ...options,
    });

  /** Empties the tables between tests that need a clean slate. */
  const clear = async () => {
    for (const t of ['organization_identifiers', 'organizations', 'search_documents', 'import_runs'])
      await ds.query(`DELETE FROM ${t}`);
    if (backend === 'sqlite') await ds.query(`DELETE FROM search_documents_fts`);
  };

  beforeAll(async () => {
    ({ storage, drop } = freshStorage(backend));
    ds = await prepareSubgraph(organizationsSubgraph, storage.organizations, { seed: 'never' });
    tmp = mkdtempSync(join(tmpdir(), 'import-organizations-'));
    for (const [name, text] of Object.entries(BROKEN_JSON)) writeFileSync(join(tmp, name), text);
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('the gateway export layout (CSV) and the GraphQL shape (JSON)', () => {
    beforeAll(clear);

    it('loads the CSV export of organizations: Arabic and French names, kinds, parents, identifiers', async () => {
      const report = await run(fixture('organizations.csv'));
      expect(report.outcome).toBe('loaded');
      expect(report.rows).toEqual({ read: 5, valid: 5, refused: 0 });
      expect(report.parts[0].tables.organizations).toEqual({
        inserted: 5,
        updated: 0,
        unchanged: 0,
        deleted: 0,
      });
      expect(report.parts[0].scope).toBe('organizations');
      const stored = await rows(ds);
      expect(stored.get('org-transparency-maroc')).toMatchObject({
        kind: 'CIVIL_SOCIETY',
        classification: 'association',
        country: 'MA',
        parent_id: null,
        name_ar: 'ترانسبرانسي المغرب',
        name_fr: 'Transparency Maroc',
        name_en: 'Transparency Morocco',
        name_es: null,
        ogp_membership_type: null,
        // The export's source.* columns are not stored: the imported file is the record's source now.
        source_dataset: 'organizations',
        source_url: null,
        source_record: 'org-transparency-maroc',
        source_file: fixture('organizations.csv'),
        source_checksum: report.checksum,
        imported_at: report.startedAt,
      });
      expect(Number(stored.get('org-transparency-maroc')!.source_line)).toBe(2);
      expect(stored.get('org-marsad-baladia')).toMatchObject({
        parent_id: 'org-al-bawsala',
        name_ar: 'مرصد بلدية',
      });
      expect(stored.get('org-tn-ministere-affaires-locales')).toMatchObject({
        kind: 'GOVERNMENT',
        name_en: 'Ministry of Local Affairs, Tunisia',
        parent_id: 'gov-tn',
      });
      expect(stored.get('org-collectivite-test-ogp')).toMatchObject({
        name_fr: 'Collectivité "test" OGP Local',
        ogp_membership_type: 'LOCAL',
        ogp_joined: '2022-05',
      });
      expect(await identifiers(ds, 'org-transparency-maroc')).toEqual([
        'ma-association:TM-1996',
        'website:transparencymaroc.ma',
      ]);
      expect(await identifiers(ds, 'org-al-bawsala')).toEqual(['tn-rne:1234567A']);
      // A parent further down the file is found; one that is neither in the file nor stored is a warning.
      expect(report.warnings).toEqual([
        {
          file: fixture('organizations.csv'),
          line: 5,
          column: 'parent.id',
          value: 'gov-tn',
          reason:
            'parent "gov-tn" of org-tn-ministere-affaires-locales is neither in this file nor stored: kept (it may be imported later)',
        },
      ]);
    });

    it('writes the same rows from the same records in JSON (only where they were read differs)', async () => {
      const before = await rows(ds);
      const report = await run(fixture('organizations.json'), {}, { dataset: 'organizations' });
      expect(report.outcome).toBe('loaded');
      // Same content, another file: each row's provenance is updated, its identifiers are left alone.
      expect(report.parts[0].tables.organizations).toEqual({
        inserted: 0,
        updated: 5,
        unchanged: 0,
        deleted: 0,
      });
      expect(report.parts[0].tables.organization_identifiers).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: 4,
        deleted: 0,
      });
      const after = await rows(ds);
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [id, row] of after) {
        expect(content(row)).toEqual(content(before.get(id)!));
        expect(row.source_file).toBe(fixture('organizations.json'));
      }
      // The line each record's object starts on.
      expect(Number(after.get('org-transparency-maroc')!.source_line)).toBe(2);
      expect(Number(after.get('org-collectivite-test-ogp')!.source_line)).toBe(63);
      expect(report.warnings.map((w) => [w.line, w.column, w.value])).toEqual([[46, 'parent.id', 'gov-tn']]);
    });

    it('changes nothing when the same file is imported again', async () => {
      const before = await rows(ds);
      const report = await run(fixture('organizations.json'), {}, { dataset: 'organizations' });
      expect(report.outcome).toBe('loaded');
      expect(report.parts[0].tables.organizations).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: 5,
        deleted: 0,
      });
      expect(report.parts[0].tables.organization_identifiers).toBeUndefined();
      expect(await rows(ds)).toEqual(before);
    });
  });

  describe('friendly column names and keys', () => {
    beforeAll(clear);

    it('reads aliases, synonyms, country names, a lone name, and derives a missing id from country + name', async () => {
      const report = await run(fixture('friendly.csv'));
      expect(report.outcome).toBe('loaded');
      expect(report.warnings.map((w) => [w.line, w.column, w.reason])).toEqual([
        [1, 'notes', 'unknown column ignored'],
      ]);
      const stored = await rows(ds);
      const ajt = institutionId('MA', 'Association Jeunes pour la Transparence');
      expect(ajt).toBe('inst-ma-association-jeunes-pour-la-transparence');
      expect(stored.get(ajt)).toMatchObject({
        kind: 'CIVIL_SOCIETY',
        country: 'MA',
        name_ar: 'جمعية شباب من أجل الشفافية',
        name_fr: 'Association Jeunes pour la Transparence',
        source_dataset: 'friendly',
      });
      expect(await identifiers(ds, ajt)).toEqual(['ma-association:AJT-2011']);
      expect(await identifiers(ds, 'inst-ma-espace-associatif')).toEqual([
        'ma-association:EA-1996',
        'website:espace-associatif.ma',
      ]);
      expect(stored.get('inst-tn-collectivite-test-2')).toMatchObject({
        kind: 'GOVERNMENT',
        country: 'TN',
        ogp_membership_type: 'LOCAL',
        ogp_joined: '2021',
      });
    });

    it('reads JSON Lines with flat keys (nameAr, parentId) and a nested names object', async () => {
      const report = await run(fixture('friendly.jsonl'), {}, { dataset: 'friendly-json' });
      expect(report.outcome).toBe('loaded');
      expect(report.rows).toEqual({ read: 3, valid: 3, refused: 0 });
      const stored = await rows(ds);
      // The same organization as friendly.csv's first row: same derived key, updated in place.
      expect(report.parts[0].tables.organizations).toEqual({
        inserted: 2,
        updated: 1,
        unchanged: 0,
        deleted: 0,
      });
      expect(Number(stored.get('inst-ma-association-jeunes-pour-la-transparence')!.source_line)).toBe(1);
      expect(stored.get('org-espace-associatif')).toMatchObject({ country: 'MA', name_ar: 'الفضاء الجمعوي' });
      expect(stored.get('org-iwatch')).toMatchObject({
        kind: 'CIVIL_SOCIETY',
        country: 'TN',
        parent_id: 'org-al-bawsala',
        name_ar: 'أنا يقظ',
        name_en: 'I Watch',
        name_fr: null,
      });
      expect(Number(stored.get('org-iwatch')!.source_line)).toBe(4);
      expect(report.warnings.map((w) => [w.line, w.column, w.reason])).toEqual([
        [4, 'website', 'unknown key ignored (reported once)'],
        [
          4,
          'parent.id',
          expect.stringContaining('"org-al-bawsala" of org-iwatch is neither in this file nor stored'),
        ],
      ]);
    });
  });

  describe('bad rows', () => {
    beforeEach(clear);

    it('loads the valid rows and reports each refused one with its line, column, value and reason', async () => {
      const report = await run(fixture('bad-rows.csv'));
      expect(report.outcome).toBe('loaded-with-refusals');
      expect(report.rows.valid).toBe(2);
      expect(report.refused.map((i) => [i.line, i.column, i.value, i.reason])).toEqual([
        [3, null, null, 'no name: give names.ar, names.fr, names.en or names.es (or name)'],
        [4, null, null, 'no name: give names.ar, names.fr, names.en or names.es (or name)'],
        [5, 'country', 'Atlantis', expect.stringMatching(/^unknown country/)],
        [
          6,
          'kind',
          'Cooperative',
          expect.stringMatching(/^unknown kind \(expected one of GOVERNMENT, CIVIL_SOCIETY/),
        ],
        [7, null, 'org-ok-1', 'duplicate key: the same record as line 2'],
        [8, null, expect.stringContaining('org-bad-quote'), expect.stringMatching(/^broken quoting/)],
        [9, 'identifiers.value', '1', expect.stringContaining('2 identifier schemes but 1 values')],
        [10, 'ogpMembership.joined', '2022-13', 'not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)'],
        [11, 'parent.id', 'org-self', 'an organization cannot be its own parent'],
        [12, null, null, '11 values but the header has 10 columns (an unquoted comma in a value?)'],
        [14, 'ogpMembership.joined', '2021', 'a date joined without an OGP membership type'],
      ]);
      const stored = await rows(ds);
      expect([...stored.keys()]).toEqual(['org-ok-1', 'org-ok-2']);
      expect(stored.get('org-ok-1')!.name_fr).toBe('Première association');
      expect(stored.get('org-ok-2')).toMatchObject({
        kind: 'CIVIL_SOCIETY',
        country: 'TN',
        parent_id: 'org-ok-1',
      });
    });

    it('refuses a duplicate key in another batch too', async () => {
      const report = await run(fixture('bad-rows.csv'), { batchSize: 1 });
      expect(report.refused.find((i) => i.line === 7)).toMatchObject({
        value: 'org-ok-1',
        reason: 'duplicate key: the same record as line 2',
      });
      expect((await rows(ds)).get('org-ok-1')!.name_fr).toBe('Première association');
    });

    it('refuses the rows of a file that is not UTF-8, with the line', async () => {
      const path = join(tmp, 'latin1.csv');
      writeFileSync(
        path,
        Buffer.concat([
          Buffer.from('id,names.fr,kind,country\norg-utf8,Société civile,CSO,MA\norg-latin1,Soci'),
          Buffer.from([0xe9]), // "é" in Windows-1252
          Buffer.from('t\xe9 civile,CSO,MA\n', 'latin1'),
        ]),
      );
      const report = await run(path);
      expect(report.outcome).toBe('loaded-with-refusals');
      expect(report.refused).toEqual([
        expect.objectContaining({
          line: 3,
          column: 'names.fr',
          reason: expect.stringMatching(/^not valid UTF-8/),
        }),
      ]);
      expect([...(await rows(ds)).keys()]).toEqual(['org-utf8']);
    });

    it('refuses an empty file, a header only, and a UTF-16 file, loading nothing', async () => {
      const utf16 = join(tmp, 'utf16.csv');
      writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,kind\n', 'utf16le')]));
      const reasons: string[] = [];
      for (const f of [fixture('empty.csv'), fixture('header-only.csv'), utf16]) {
        const report = await run(f);
        expect(report.outcome).toBe('refused');
        reasons.push(report.refused[0].reason);
      }
      expect(reasons).toEqual([
        'the file is empty',
        'the file has a header but no rows',
        expect.stringContaining('UTF-16'),
      ]);
      expect((await rows(ds)).size).toBe(0);
    });

    it('refuses a JSON file whose structure is broken, with the line of the error, loading nothing', async () => {
      const report = await run(join(tmp, 'invalid.json'));
      expect(report.outcome).toBe('refused');
      expect(report.refused).toEqual([
        {
          file: join(tmp, 'invalid.json'),
          line: 12,
          column: null,
          value: null,
          reason:
            'invalid JSON: expected "," or "]" after the record that starts on line 7, found "{" (a missing comma between records?)',
        },
      ]);
      expect((await rows(ds)).size).toBe(0);
      const truncated = join(tmp, 'truncated.json');
      const json = readFileSync(fixture('organizations.json'), 'utf8');
      writeFileSync(truncated, json.slice(0, json.indexOf('Marsad Baladia') + 6));
      const cut = await run(truncated);
      expect(cut.outcome).toBe('refused');
      expect(cut.refused[0]).toMatchObject({
        line: 24,
        reason: 'invalid JSON: the file ends inside a string opened on line 24',
      });
      expect((await rows(ds)).size).toBe(0);
    });

    it('refuses a JSON record that is not valid by itself, with the line of the error, and loads the others', async () => {
      const report = await run(join(tmp, 'bad-record.json'));
      expect(report.outcome).toBe('loaded-with-refusals');
      expect(report.refused.map((i) => [i.line, i.column, i.value, i.reason])).toEqual([
        [10, null, '"kind": "CIVIL_SOCIETY"', "invalid JSON: Expected ',' or '}' after property value"],
        [12, null, '"not an object"', 'a record must be a JSON object'],
        [13, 'country', 'Narnia', expect.stringMatching(/^unknown country/)],
      ]);
      expect([...(await rows(ds)).keys()]).toEqual(['org-one']);
    });
  });

  describe('updates, missing records and --prune', () => {
    let service: Service;
    let url: string;
    beforeAll(async () => {
      await clear();
      service = await organizationsSubgraph.createService(ds, { closeDataSource: false });
      url = (await service.listen(0, '127.0.0.1')).url;
    });
    afterAll(() => service?.stop());

    const search = async (text: string): Promise<string[]> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: /* GraphQL */ `
            query ($search: String) {
              organizations(first: 50, filter: { search: $search }) {
                nodes {
                  id
                }
              }
            }
          `,
          variables: { search: text },
        }),
      });
      const body = (await res.json()) as { data: { organizations: { nodes: { id: string }[] } } };
      return body.data.organizations.nodes.map((n) => n.id);
    };

    it('updates a changed name (found by search under the new one) and reports what the file no longer has', async () => {
      const v1 = join(tmp, 'cso.csv');
      copyFileSync(fixture('organizations.csv'), v1);
      expect((await run(v1)).outcome).toBe('loaded');
      expect(await search('Bawsala')).toEqual(['org-al-bawsala']);
      expect(await search('البوصلة')).toEqual(['org-al-bawsala']);

      // v2: Al Bawsala renamed (Arabic and French), Transparency Maroc gone, its identifiers changed elsewhere.
      const text = readFileSync(v1, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('org-transparency-maroc'))
        .map((l) =>
          l.startsWith('org-al-bawsala')
            ? l
                .replace(/البوصلة/g, 'البوصلة للرقابة')
                .replace(',Al Bawsala,,,', ',Al Bawsala Observatoire,,,')
            : l.replace('ogp-member-code,MATEST', 'ogp-member-code; website,MATEST; test.ma'),
        )
        .join('\n');
      writeFileSync(v1, text);
      const report = await run(v1);
      expect(report.outcome).toBe('loaded');
      expect(report.parts[0].tables.organizations).toEqual({
        inserted: 0,
        updated: 4,
        unchanged: 0,
        deleted: 0,
      });
      expect(report.parts[0].tables.organization_identifiers).toEqual({
        inserted: 1,
        updated: 0,
        unchanged: 2,
        deleted: 0,
      });
      expect(report.parts[0].missing).toEqual({ count: 1, sample: ['org-transparency-maroc'] });
      expect(report.parts[0].pruned).toBe(0);
      const stored = await rows(ds);
      expect(stored.get('org-al-bawsala')).toMatchObject({
        name_fr: 'Al Bawsala Observatoire',
        name_ar: 'البوصلة للرقابة',
      });
      expect(stored.has('org-transparency-maroc')).toBe(true);
      expect(await search('Observatoire')).toEqual(['org-al-bawsala']);
      expect(await search('للرقابة')).toEqual(['org-al-bawsala']);
      expect(await search('Transparency')).toEqual(['org-transparency-maroc']);

      // --dry-run writes nothing, not even the prune.
      const dry = await run(v1, { dryRun: true });
      expect(dry.outcome).toBe('validated');
      expect(dry.parts[0].tables).toEqual({});
      expect((await rows(ds)).has('org-transparency-maroc')).toBe(true);

      const pruned = await run(v1, { prune: true });
      expect(pruned.outcome).toBe('loaded');
      expect(pruned.parts[0].pruned).toBe(1);
      expect(pruned.parts[0].tables.organizations).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: 4,
        deleted: 1,
      });
      expect((await rows(ds)).has('org-transparency-maroc')).toBe(false);
      expect(await identifiers(ds, 'org-transparency-maroc')).toEqual([]);
      expect(await search('Transparency')).toEqual([]);
      // Another dataset's records are out of scope.
      expect((await run(fixture('friendly.jsonl'), { prune: true })).parts[0].missing).toEqual({
        count: 0,
        sample: [],
      });
      expect((await rows(ds)).has('org-al-bawsala')).toBe(true);
    });

    it('with --strict loads nothing when a row is refused', async () => {
      const before = await rows(ds);
      const report = await run(fixture('bad-rows.csv'), { strict: true });
      expect(report.outcome).toBe('refused');
      expect(report.rows.refused).toBeGreaterThan(0);
      expect(await rows(ds)).toEqual(before);
    });
  });

  describe('the command line', () => {
    /** Runs the CLI on this backend's storage (the test's own, never the configured databases). */
    const cli = (args: string[]) => runImportCli({ organizations: storage.organizations }, args);

    beforeAll(clear);

    it('exits 0 when every row loads, 2 with refused rows, 3 when nothing loads, 64 on wrong usage', async () => {
      const report = join(tmp, 'report.json');
      const ok = await cli([
        'organizations',
        fixture('organizations.csv'),
        '--dataset',
        'cli',
        '--report',
        report,
      ]);
      expect(ok.stderr).not.toMatch(/import failed|Error/);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('5 rows read, 5 valid, 0 refused');
      expect(ok.stdout).toContain('organizations +5 ~0 =0');
      const written = JSON.parse(readFileSync(report, 'utf8')) as ImportReport;
      expect(written.outcome).toBe('loaded');
      expect(written.parts[0].scope).toBe('cli');
      expect((await rows(ds)).get('org-al-bawsala')!.source_dataset).toBe('cli');

      const again = await cli(['organizations', fixture('organizations.csv'), '--dataset', 'cli']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('organizations +0 ~0 =5');

      const bad = await cli(['organizations', fixture('bad-rows.csv'), '--report', report]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toContain('bad-rows.csv:5 country = "Atlantis": unknown country');
      expect((JSON.parse(readFileSync(report, 'utf8')) as ImportReport).refused).toHaveLength(11);

      expect((await cli(['organizations', fixture('bad-rows.csv'), '--strict'])).code).toBe(3);
      expect((await cli(['organizations', fixture('empty.csv')])).code).toBe(3);
      expect((await cli(['organizations', join(tmp, 'invalid.json')])).code).toBe(3);
      expect((await cli(['organizations', fixture('organizations.csv'), '--dataset', ''])).code).toBe(64);
      expect((await cli(['organizations', fixture('organizations.csv'), '--municipality', '1'])).code).toBe(
        64,
      );
    });
  });
});
