import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { runImport, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { moroccoCommuneId, moroccoDivisionId, moroccoRegionId } from '@civic/formats/keys';
import { datasetPath, SOURCES } from '@civic/formats/sources';
import { adminDivisionsImporter } from '@civic/subgraphs/organizations/src/import/admin-divisions';
import { organizationsSubgraph } from '@civic/subgraphs/organizations/src/server';
import { runImportCli, type OrganizationRow } from '../support/import-cli';
import { BACKENDS, freshStorage, seededStorage, type Backend } from '../support/system';

/**
 * The `admin-divisions` import kind end to end, on each backend: the real Morocco files over the seeded
 * database (the seeded rows updated in place, then unchanged), into an empty one (parents imported later),
 * bad records, a broken file, missing communes and --prune, and the CLI's exit statuses.
 */

/**
 * Bad files, written to a temporary folder by the tests (a formatter would refuse them as checked-in files):
 * communes with every kind of bad record, and regions whose JSON structure is broken.
 */
const BAD_FILES = {
  'bad-communes.json': `{
  "communes": [
    {
      "id": "COM_9001",
      "name": { "ar": "جماعة تجريبية", "fr": "Commune test" },
      "region_division_id": "DIV_001",
      "type": "rural"
    },
    {
      "name": { "ar": "بلا رمز", "fr": "Sans id" },
      "region_division_id": "DIV_001",
      "type": "rural"
    },
    {
      "id": "COM_9002",
      "name": { "ar": " ", "fr": "" },
      "region_division_id": "DIV_001",
      "type": "rural"
    },
    {
      "id": "COM_9001",
      "name": { "ar": "مكررة", "fr": "Doublon" },
      "region_division_id": "DIV_001",
      "type": "rural"
    },
    "COM_9003",
    {
      "id": "COM_9004",
      "name": { "ar": "جماعة", "fr": "Virgule manquante" }
      "region_division_id": "DIV_001"
    },
    {
      "id": "COM_9005",
      "name": { "ar": "جماعة\\u200f", "fr": "Commune  autre" },
      "type": "autre"
    }
  ]
}
`,
  'broken-regions.json': `{
  "regions": [
    {
      "id": "REGION_01",
      "name": { "ar": "بني ملال خنيفرة", "fr": "Béni Mellal-Khénifra" }
    },
    {
      "id": "REGION_02",
      "name": { "ar": "الدار البيضاء سطات", "fr": "Casablanca-Settat" }
    ]
}
`,
};

interface SourceUnit {
  id: string;
  name: Record<'ar' | 'en' | 'es' | 'fr', string>;
  region_id?: string;
  region_division_id?: string;
  type?: string;
}

// Expected values come from the files themselves, read here independently of the importer.
const FILES = [
  {
    file: SOURCES.moroccoRegions.file,
    key: 'regions',
    toId: moroccoRegionId,
    dataset: SOURCES.moroccoRegions.dataset,
  },
  {
    file: SOURCES.moroccoDivisions.file,
    key: 'region_divisions',
    toId: moroccoDivisionId,
    dataset: SOURCES.moroccoDivisions.dataset,
  },
  {
    file: SOURCES.moroccoCommunes.file,
    key: 'communes',
    toId: moroccoCommuneId,
    dataset: SOURCES.moroccoCommunes.dataset,
  },
].map((f) => {
  const text = readFileSync(datasetPath(f.file), 'utf8');
  const units = (JSON.parse(text) as Record<string, SourceUnit[]>)[f.key];
  const lines = text.split('\n');
  /** The line each record's object starts on: the "{" line before its "id". */
  const startLine = new Map(
    units.map((u) => {
      const idLine = lines.findIndex((l) => l.includes(`"id": "${u.id}"`));
      expect(lines[idLine - 1].trim()).toBe('{');
      return [u.id, idLine];
    }),
  );
  return { ...f, path: datasetPath(f.file), units, startLine };
});
const [REGIONS, DIVISIONS, COMMUNES] = FILES;

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
  'source_url',
  'source_license',
  'source_record',
] as const;
const content = (r: Row) => Object.fromEntries(CONTENT.map((c) => [c, r[c]]));

async function rows(ds: DataSource, prefix = 'ma-'): Promise<Map<string, Row>> {
  const list: Row[] = await ds.query('SELECT * FROM organizations WHERE id LIKE ? ORDER BY id', [
    `${prefix}%`,
  ]);
  return new Map(list.map((r) => [r.id, r]));
}

describe.each(BACKENDS)('npm run import -- admin-divisions (%s)', (backend: Backend) => {
  const opened: { ds: DataSource; drop: () => Promise<void> }[] = [];
  let tmp: string;

  /** An organizations database, migrated: seeded (a copy of this run's seeded template) or empty. */
  async function open(seed: 'always' | 'never') {
    const { storage, drop } =
      seed === 'always' ? await seededStorage(backend, ['organizations']) : freshStorage(backend);
    const ds = await prepareSubgraph(organizationsSubgraph, storage.organizations, { seed: 'never' });
    opened.push({ ds, drop });
    return { ds, storage: storage.organizations };
  }

  const run = (ds: DataSource, file: string, options: Partial<ImportOptions> = {}): Promise<ImportReport> =>
    runImport('admin-divisions', file, [{ part: adminDivisionsImporter.part({}), ds }], {
      strict: false,
      dryRun: false,
      prune: false,
      batchSize: 500,
      params: {},
      ...options,
    });

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'import-admin-divisions-'));
    for (const [name, text] of Object.entries(BAD_FILES)) writeFileSync(join(tmp, name), text);
  });
  afterAll(async () => {
    for (const o of opened) {
      await o.ds.destroy();
      await o.drop();
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('the real files over the seeded database', () => {
    let ds: DataSource;
    let seeded: Map<string, Row>;
    beforeAll(async () => {
      ({ ds } = await open('always'));
      seeded = await rows(ds);
    });

    it('has the seed to update: 12 regions, 64 provinces and prefectures, 881 communes', () => {
      expect(FILES.map((f) => f.units.length)).toEqual([12, 64, 881]);
      expect(seeded.size).toBe(12 + 64 + 881);
      // The OGP Local members file makes Béni Mellal-Khénifra a member: the region files say nothing of it.
      expect(seeded.get('ma-region-01')).toMatchObject({
        ogp_membership_type: 'LOCAL',
        ogp_joined: '2022-05',
      });
    });

    it.each(FILES.map((f) => [f.file, f] as const))(
      'finds the seeded rows of %s as the file gives them (the seed imported it): nothing written',
      async (_name, f) => {
        const report = await run(ds, f.path);
        expect(report.outcome).toBe('loaded');
        expect(report.rows).toEqual({ read: f.units.length, valid: f.units.length, refused: 0 });
        const part = report.parts[0];
        expect(part.scope).toBe(f.dataset);
        expect(part.tables.organizations).toEqual({
          inserted: 0,
          updated: 0,
          unchanged: f.units.length,
          deleted: 0,
        });
        // Unchanged organizations: their identifiers are left as the seed wrote them, not even compared.
        expect(part.tables.organization_identifiers).toBeUndefined();
        expect(part.missing).toEqual({ count: 0, sample: [] });
        const after = await rows(ds);
        expect(after.size).toBe(seeded.size);
        for (const u of f.units) {
          const id = f.toId(u.id);
          const row = after.get(id)!;
          // The same content as the seed imported, cited from the bundled file, at the line the record starts on.
          expect(content(row)).toEqual(content(seeded.get(id)!));
          expect(row).toMatchObject({
            source_file: `data/datasets/${f.file}`,
            source_checksum: report.checksum,
            imported_at: seeded.get(id)!.imported_at,
          });
          expect(Number(row.source_line)).toBe(f.startLine.get(u.id));
        }
      },
    );

    it('reads the real values: names in Arabic and French, parents, classification', async () => {
      const after = await rows(ds);
      for (const d of DIVISIONS.units)
        expect(after.get(moroccoDivisionId(d.id))).toMatchObject({
          parent_id: moroccoRegionId(d.region_id!),
          classification: d.type,
          name_ar: d.name.ar,
          name_fr: d.name.fr,
        });
      for (const c of COMMUNES.units) {
        const row = after.get(moroccoCommuneId(c.id))!;
        expect(row.parent_id).toBe(moroccoDivisionId(c.region_division_id!));
        expect(row.classification).toBe(c.type === 'urbain' ? 'commune (urban)' : 'commune (rural)');
      }
      expect(after.get('ma-region-01')).toMatchObject({
        name_ar: 'بني ملال خنيفرة',
        name_fr: 'Béni Mellal-Khénifra',
        ogp_membership_type: 'LOCAL',
        ogp_joined: '2022-05',
      });
      // COM_0881's French name is Arabic script in the file: left null, as the seed does.
      expect(after.get('ma-commune-0881')).toMatchObject({ name_fr: null, name_ar: 'دار بل عمري' });
      const ids: { value: string }[] = await ds.query(
        "SELECT value FROM organization_identifiers WHERE organization_id = 'ma-commune-0001'",
      );
      expect(ids.map((i) => i.value)).toEqual(['COM_0001']);
    });

    it('reports the communes file quirks as warnings with their lines', async () => {
      const report = await run(ds, COMMUNES.path);
      const line = (id: string) => COMMUNES.startLine.get(id);
      const starts = (text: string) => expect.stringMatching(new RegExp(`^${text}`));
      expect(report.warnings.map((w) => [w.line, w.column, w.reason])).toEqual([
        [
          line('COM_0149'),
          'name.ar',
          'name.ar "آيت سبعة الجروف " read as "آيت سبعة الجروف" (extra spaces removed)',
        ],
        [line('COM_0460'), null, starts('probable duplicate of COM_0459: same names')],
        [line('COM_0521'), null, starts('probable duplicate of COM_0231: same names')],
        [line('COM_0722'), null, starts('probable duplicate of COM_0721: same names')],
        [line('COM_0785'), null, starts('probable duplicate of COM_0607: same names')],
        [line('COM_0881'), 'name.fr', starts('name.fr "دار بل عمري" is in Arabic script, not fr; left null')],
      ]);
    });

    it('changes nothing when the same files are imported again', async () => {
      const before = await rows(ds);
      for (const f of FILES) {
        const report = await run(ds, f.path);
        expect(report.parts[0].tables.organizations).toEqual({
          inserted: 0,
          updated: 0,
          unchanged: f.units.length,
          deleted: 0,
        });
        expect(report.parts[0].tables.organization_identifiers).toBeUndefined();
      }
      expect(await rows(ds)).toEqual(before);
    });

    it('reports communes a newer file no longer has, and deletes them with --prune', async () => {
      const smaller = join(tmp, 'communes.json');
      const data = JSON.parse(readFileSync(COMMUNES.path, 'utf8')) as { communes: SourceUnit[] };
      data.communes = data.communes.filter((c) => c.id !== 'COM_0002' && c.id !== 'COM_0003');
      writeFileSync(smaller, JSON.stringify(data, null, 2));
      const report = await run(ds, smaller);
      expect(report.outcome).toBe('loaded');
      expect(report.parts[0].missing).toEqual({ count: 2, sample: ['ma-commune-0002', 'ma-commune-0003'] });
      expect((await rows(ds)).has('ma-commune-0002')).toBe(true);
      const pruned = await run(ds, smaller, { prune: true });
      expect(pruned.parts[0].pruned).toBe(2);
      expect(pruned.parts[0].tables.organizations).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: 879,
        deleted: 2,
      });
      const after = await rows(ds);
      expect(after.has('ma-commune-0002')).toBe(false);
      expect(after.has('ma-commune-0001')).toBe(true);
      const left: { n: number | string }[] = await ds.query(
        "SELECT COUNT(*) AS n FROM organization_identifiers WHERE organization_id IN ('ma-commune-0002', 'ma-commune-0003')",
      );
      expect(Number(left[0].n)).toBe(0);
      const docs: { n: number | string }[] = await ds.query(
        "SELECT COUNT(*) AS n FROM search_documents WHERE entity_id IN ('ma-commune-0002', 'ma-commune-0001')",
      );
      expect(Number(docs[0].n)).toBeGreaterThan(0);
      const gone: { n: number | string }[] = await ds.query(
        "SELECT COUNT(*) AS n FROM search_documents WHERE entity_id = 'ma-commune-0002'",
      );
      expect(Number(gone[0].n)).toBe(0);
      // Other levels are out of this file's scope.
      expect(after.size).toBe(12 + 64 + 879);
    });
  });

  describe('into an empty database', () => {
    let ds: DataSource;
    let storage: StorageConfig;
    beforeAll(async () => {
      ({ ds, storage } = await open('never'));
    });

    it('loads communes before their provinces (warned), then the provinces and regions', async () => {
      const communes = await run(ds, COMMUNES.path);
      expect(communes.outcome).toBe('loaded');
      expect(communes.parts[0].tables.organizations).toMatchObject({ inserted: 881 });
      const parents = communes.warnings.filter((w) => w.column === 'region_division_id');
      expect(parents).toHaveLength(881);
      expect(parents[0]).toMatchObject({
        line: COMMUNES.startLine.get('COM_0001'),
        value: 'ma-division-019',
        reason:
          'parent "ma-division-019" of ma-commune-0001 is neither in this file nor stored: kept (it may be imported later)',
      });
      expect((await run(ds, DIVISIONS.path)).parts[0].tables.organizations).toMatchObject({ inserted: 64 });
      expect((await run(ds, REGIONS.path)).parts[0].tables.organizations).toMatchObject({ inserted: 12 });
      const again = await run(ds, COMMUNES.path);
      expect(again.parts[0].tables.organizations).toMatchObject({ unchanged: 881 });
      expect(again.warnings.filter((w) => w.column === 'region_division_id')).toEqual([]);
      const stored = await rows(ds);
      expect(stored.size).toBe(957);
      expect(stored.get('ma-region-01')).toMatchObject({
        ogp_membership_type: null,
        name_fr: 'Béni Mellal-Khénifra',
      });
    });

    it('refuses bad records with their line and loads the others', async () => {
      const file = join(tmp, 'bad-communes.json');
      const report = await run(ds, file);
      expect(report.outcome).toBe('loaded-with-refusals');
      expect(report.refused.map((i) => [i.line, i.column, i.value, i.reason])).toEqual([
        [9, 'id', null, 'no id'],
        [14, 'name', null, 'no name in any language (ar, en, es, fr)'],
        [20, null, 'ma-commune-9001', 'duplicate key: the same record as line 3'],
        [26, null, '"COM_9003"', 'a record must be a JSON object'],
        [
          30,
          null,
          '"region_division_id": "DIV_001"',
          "invalid JSON: Expected ',' or '}' after property value",
        ],
      ]);
      expect(report.warnings.map((w) => [w.line, w.column])).toEqual([
        [32, 'name.ar'],
        [32, 'name.fr'],
        [32, 'type'],
        [32, 'region_division_id'],
      ]);
      const stored = await rows(ds, 'ma-commune-9');
      expect([...stored.keys()]).toEqual(['ma-commune-9001', 'ma-commune-9005']);
      expect(stored.get('ma-commune-9005')).toMatchObject({
        name_ar: 'جماعة',
        name_fr: 'Commune autre',
        classification: 'commune (autre)',
        parent_id: null,
      });
      expect(stored.get('ma-commune-9001')).toMatchObject({
        parent_id: 'ma-division-001',
        name_fr: 'Commune test',
      });
    });

    it('refuses a file whose JSON is broken, or whose level it cannot tell, loading nothing', async () => {
      const broken = await run(ds, join(tmp, 'broken-regions.json'));
      expect(broken.outcome).toBe('refused');
      expect(broken.refused.map((i) => [i.line, i.reason])).toEqual([
        [10, 'invalid JSON: "]" closes the "{" opened on line 7'],
      ]);
      const unknown = join(tmp, 'data.json');
      writeFileSync(unknown, '{ "units": [] }');
      const refused = await run(ds, unknown);
      expect(refused.outcome).toBe('refused');
      expect(refused.refused[0].reason).toMatch(/^cannot tell the level/);
      // A bare array says its level by its file name.
      const bare = join(tmp, 'provinces-2025.json');
      writeFileSync(bare, JSON.stringify(DIVISIONS.units.slice(0, 2), null, 1));
      const loaded = await run(ds, bare);
      expect(loaded.parts[0].scope).toBe(SOURCES.moroccoDivisions.dataset);
      expect(loaded.parts[0].tables.organizations).toMatchObject({ updated: 2 });
      expect(loaded.parts[0].missing?.count).toBe(62);
    });

    it('exits 0, 2 or 3 from the command line', async () => {
      const cli = (file: string) => runImportCli({ organizations: storage }, ['admin-divisions', file]);
      const ok = await cli(REGIONS.path);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('12 rows read, 12 valid, 0 refused');
      expect(ok.stdout).toContain(`[${SOURCES.moroccoRegions.dataset}]: organizations +0 ~0 =12`);
      expect((await cli(join(tmp, 'bad-communes.json'))).code).toBe(2);
      expect((await cli(join(tmp, 'broken-regions.json'))).code).toBe(3);
    });
  });
});
