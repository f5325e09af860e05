import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { importBundled } from '@civic/common/import/bundled';
import { runImport } from '@civic/common/import/pipeline';
import type { ImportIssue, ImportReport } from '@civic/common/import/report';
import {
  moroccoCommuneId,
  moroccoDivisionId,
  moroccoRegionId,
  tunisiaGovernorateId,
  tunisiaMunicipalityId,
} from '@civic/formats/keys';
import { DATASETS_DIR, SOURCES } from '@civic/formats/sources';
import type { Organization } from '@civic/subgraphs/organizations/src/entities/Organization';
import type { OrganizationIdentifier } from '@civic/subgraphs/organizations/src/entities/OrganizationIdentifier';
import { importers } from '@civic/subgraphs/organizations/src/import';
import { adminDivisionFiles } from '@civic/subgraphs/organizations/src/import/bundled';
import { MODULES, freshStorage } from '../support/system';

// The administrative divisions enter the organizations subgraph as the seed loads them: the bundled files
// through the `admin-divisions` and `tn-municipalities` importers. Expected values come from the files
// themselves, parsed again here, independently of the importers.

interface SourceUnit {
  id: string;
  name: Record<'ar' | 'en' | 'es' | 'fr', string>;
  region_id?: string;
  region_division_id?: string;
  type?: string;
}
const readJson = (file: string, key: string): SourceUnit[] =>
  JSON.parse(readFileSync(join(DATASETS_DIR, file), 'utf8'))[key];
const regions = readJson('morocco/regions.json', 'regions');
const divisions = readJson('morocco/region-divisions.json', 'region_divisions');
const communes = readJson('morocco/communes.json', 'communes');
const municipalities = parse(readFileSync(join(DATASETS_DIR, 'tunisia/municipalities.csv'), 'utf8'), {
  columns: true,
  bom: true,
}) as Record<'municipal_id' | 'name' | 'name_ar' | 'state', string>[];

/** What one file wrote: its organizations and identifiers (read back from the database), and its report. */
interface Loaded {
  organizations: Organization[];
  identifiers: OrganizationIdentifier[];
  report: ImportReport;
}

/** A migrated, empty organizations database on SQLite. */
async function emptyOrganizations(): Promise<{ ds: DataSource; close(): Promise<void> }> {
  const { storage, drop } = freshStorage('sqlite');
  const ds = await prepareSubgraph(MODULES.organizations, storage.organizations, { seed: 'never' });
  return {
    ds,
    close: async () => {
      await ds.destroy();
      await drop();
    },
  };
}

/** The organizations (and their identifiers) a dataset holds, as entities. */
async function loaded(ds: DataSource, dataset: string, report: ImportReport): Promise<Loaded> {
  const rows: Record<string, unknown>[] = await ds.query(
    `SELECT * FROM organizations WHERE source_dataset = ? ORDER BY source_line, id`,
    [dataset],
  );
  const organizations = rows.map(
    (r) =>
      ({
        id: r.id,
        kind: r.kind,
        classification: r.classification,
        country: r.country,
        parentId: r.parent_id,
        nameAr: r.name_ar,
        nameFr: r.name_fr,
        nameEn: r.name_en,
        nameEs: r.name_es,
        ogpMembershipType: r.ogp_membership_type,
        ogpJoined: r.ogp_joined,
        sourceDataset: r.source_dataset,
        sourceRecord: r.source_record,
        sourceFile: r.source_file,
        sourceLine: r.source_line === null ? null : Number(r.source_line),
      }) as Organization,
  );
  const ids = new Set(organizations.map((o) => o.id));
  const all: { organization_id: string; scheme: string; value: string }[] = await ds.query(
    'SELECT organization_id, scheme, value FROM organization_identifiers',
  );
  const identifiers = all
    .filter((i) => ids.has(i.organization_id))
    .map((i) => ({ organizationId: i.organization_id, scheme: i.scheme, value: i.value }));
  return { organizations, identifiers, report };
}

const byId = (seed: Loaded) => new Map(seed.organizations.map((o) => [o.id, o]));
const count = (orgs: Organization[], classification: string) =>
  orgs.filter((o) => o.classification === classification).length;
/** The issues of a report at a line. */
const at = (issues: ImportIssue[], line: number) => issues.filter((i) => i.line === line);
/** The line a Moroccan record starts on (its `{`, the line before its id's) in its file. */
const lineOfId = (file: string, id: string) =>
  readFileSync(join(DATASETS_DIR, file), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(`"id": "${id}"`));

describe('the bundled administrative divisions, through the importers (real files)', () => {
  let db: Awaited<ReturnType<typeof emptyOrganizations>>;
  let seeds: Loaded[];
  let regionSeed: Loaded;
  let divisionSeed: Loaded;
  let communeSeed: Loaded;
  let tunisiaSeed: Loaded;
  const DATASETS = [
    SOURCES.moroccoRegions.dataset,
    SOURCES.moroccoDivisions.dataset,
    SOURCES.moroccoCommunes.dataset,
    SOURCES.tunisiaMunicipalities.dataset,
  ];

  beforeAll(async () => {
    db = await emptyOrganizations();
    const reports = await importBundled(db.ds, importers, adminDivisionFiles);
    seeds = await Promise.all(reports.map((r, i) => loaded(db.ds, DATASETS[i], r)));
    [regionSeed, divisionSeed, communeSeed, tunisiaSeed] = seeds;
  });
  afterAll(() => db.close());

  it('imports one file per dataset, each accounting for every source record, citing file and line', () => {
    expect(adminDivisionFiles.map((f) => f.path)).toEqual([
      SOURCES.moroccoRegions.file,
      SOURCES.moroccoDivisions.file,
      SOURCES.moroccoCommunes.file,
      SOURCES.tunisiaMunicipalities.file,
    ]);
    const sources = [regions.length, divisions.length, communes.length, municipalities.length];
    expect(sources).toEqual([12, 64, 881, 264]);
    seeds.forEach((s, i) => {
      const units = s.organizations.filter((o) => o.classification !== 'governorate');
      expect(units.length + s.report.rows.refused).toBe(sources[i]);
      expect(s.report.refused).toEqual([]);
      expect(s.report.outcome).toBe('loaded');
      expect(s.report.parts[0].tables.organizations.inserted).toBe(s.organizations.length);
      expect(s.report.parts[0].tables.organization_identifiers.inserted).toBe(s.identifiers.length);
      for (const o of s.organizations) {
        expect(o.sourceFile).toBe(`data/datasets/${adminDivisionFiles[i].path}`);
        expect(o.sourceLine).toBeGreaterThan(0);
      }
    });
  });

  it('builds the 12 Moroccan regions with their four names', () => {
    expect(regionSeed.organizations.map((o) => o.id)).toEqual(regions.map((r) => moroccoRegionId(r.id)));
    expect(byId(regionSeed).get('ma-region-01')!.sourceLine).toBe(
      lineOfId('morocco/regions.json', 'REGION_01'),
    );
    const bmk = byId(regionSeed).get('ma-region-01')!;
    expect(bmk).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'region',
      country: 'MA',
      parentId: null,
      nameAr: 'بني ملال خنيفرة',
      nameFr: 'Béni Mellal-Khénifra',
      nameEn: 'Béni Mellal-Khénifra',
      nameEs: 'Beni Melal-Jenifra',
      sourceDataset: SOURCES.moroccoRegions.dataset,
      sourceRecord: 'REGION_01',
    });
    for (const r of regions) {
      const o = byId(regionSeed).get(moroccoRegionId(r.id))!;
      expect([o.nameAr, o.nameEn, o.nameEs, o.nameFr]).toEqual([r.name.ar, r.name.en, r.name.es, r.name.fr]);
    }
    expect(regionSeed.identifiers).toContainEqual({
      organizationId: 'ma-region-01',
      scheme: 'ma-region',
      value: 'REGION_01',
    });
  });

  it('builds the 64 provinces and prefectures under their regions', () => {
    const orgs = byId(divisionSeed);
    expect(orgs.size).toBe(64);
    for (const d of divisions) {
      expect(orgs.get(moroccoDivisionId(d.id))).toMatchObject({
        classification: d.type,
        parentId: moroccoRegionId(d.region_id!),
        nameFr: d.name.fr,
      });
    }
    expect(count(divisionSeed.organizations, 'province')).toBe(
      divisions.filter((d) => d.type === 'province').length,
    );
    expect(count(divisionSeed.organizations, 'prefecture')).toBe(13);
    const bmk = divisionSeed.organizations.filter((o) => o.parentId === 'ma-region-01').map((o) => o.nameFr);
    expect(bmk.sort()).toEqual(['Azilal', 'Béni Mellal', 'Fquih Ben Salah', 'Khouribga', 'Khénifra']);
    expect(divisionSeed.identifiers).toContainEqual({
      organizationId: 'ma-division-005',
      scheme: 'ma-division',
      value: 'DIV_005',
    });
  });

  it('builds the 881 communes under existing divisions, classified rural or urban', () => {
    const orgs = byId(communeSeed);
    expect(orgs.size).toBe(881);
    const divisionIds = new Set(divisionSeed.organizations.map((o) => o.id));
    for (const c of communes) {
      const o = orgs.get(moroccoCommuneId(c.id))!;
      expect(o.parentId).toBe(moroccoDivisionId(c.region_division_id!));
      expect(divisionIds.has(o.parentId!)).toBe(true);
    }
    expect(count(communeSeed.organizations, 'commune (rural)')).toBe(
      communes.filter((c) => c.type === 'rural').length,
    );
    expect(count(communeSeed.organizations, 'commune (urban)')).toBe(
      communes.filter((c) => c.type === 'urbain').length,
    );
    expect(communeSeed.organizations.every((o) => o.classification!.length <= 64)).toBe(true);
  });

  it('reports the communes quirks: a trailing space, a French name in Arabic, repeated communes', () => {
    const orgs = byId(communeSeed);
    expect(orgs.get('ma-commune-0149')!.nameAr).toBe('آيت سبعة الجروف');
    expect(communes.find((c) => c.id === 'COM_0881')!.name.fr).toBe('دار بل عمري');
    expect(orgs.get('ma-commune-0881')).toMatchObject({
      nameFr: null,
      nameAr: 'دار بل عمري',
      nameEn: 'Dar Bel Amri',
    });
    const warned = new Set(communeSeed.report.warnings.map((w) => w.line));
    for (const id of ['COM_0149', 'COM_0881', 'COM_0460', 'COM_0521', 'COM_0722', 'COM_0785']) {
      expect(warned.has(lineOfId('morocco/communes.json', id))).toBe(true);
    }
    expect(orgs.has('ma-commune-0521')).toBe(true);
  });

  it('builds the 264 Tunisian municipalities, with their Arabic names exactly as given', () => {
    const munis = tunisiaSeed.organizations.filter((o) => o.classification === 'municipality');
    expect(munis.map((o) => o.id)).toEqual(municipalities.map((m) => tunisiaMunicipalityId(m.municipal_id)));
    const orgs = byId(tunisiaSeed);
    for (const m of municipalities)
      expect(orgs.get(tunisiaMunicipalityId(m.municipal_id))!.nameAr).toBe(m.name_ar);
    expect(orgs.get('tn-municipality-33011')).toMatchObject({
      kind: 'GOVERNMENT',
      country: 'TN',
      nameFr: 'El Kef',
      nameAr: 'الكاف',
      parentId: tunisiaGovernorateId('Kef'),
      sourceDataset: SOURCES.tunisiaMunicipalities.dataset,
    });
    expect(orgs.get('tn-municipality-34012')).toMatchObject({
      nameAr: 'بوعرادة',
      parentId: 'tn-governorate-siliana',
    });
    expect(tunisiaSeed.identifiers).toContainEqual({
      organizationId: 'tn-municipality-33011',
      scheme: 'tn-municipality',
      value: '33011',
    });
    expect(tunisiaSeed.identifiers).toHaveLength(264);
  });

  it('makes one governorate per distinct state, French name only', () => {
    const states = new Set(municipalities.map((m) => m.state.replace(/^Gouvernorat de /, '')));
    const governorates = tunisiaSeed.organizations.filter((o) => o.classification === 'governorate');
    expect(governorates.map((g) => g.id).sort()).toEqual([...states].map(tunisiaGovernorateId).sort());
    expect(governorates).toHaveLength(24);
    expect(byId(tunisiaSeed).get('tn-governorate-siliana')).toMatchObject({
      kind: 'GOVERNMENT',
      country: 'TN',
      nameFr: 'Siliana',
      nameAr: null,
      parentId: null,
      sourceRecord: 'state=Siliana',
      sourceFile: 'data/datasets/tunisia/municipalities.csv',
    });
    const governorateIds = new Set(governorates.map((g) => g.id));
    for (const o of tunisiaSeed.organizations) {
      if (o.classification === 'municipality') expect(governorateIds.has(o.parentId!)).toBe(true);
    }
  });

  it('takes the governorate from the official code where the state column disagrees, and says so', () => {
    const orgs = byId(tunisiaSeed);
    expect(municipalities.find((m) => m.municipal_id === '13012')!.state).toBe('Tunis');
    expect(orgs.get('tn-municipality-13012')!.parentId).toBe('tn-governorate-ben-arous');
    expect(orgs.get('tn-municipality-33022')!.parentId).toBe('tn-governorate-kef');
    expect(orgs.get('tn-municipality-53021')!.parentId).toBe('tn-governorate-mahdia');
    expect(orgs.get('tn-municipality-41022')!.parentId).toBe('tn-governorate-kairouan');
    const lineOf = (code: string) => municipalities.findIndex((m) => m.municipal_id === code) + 2;
    const warned = (code: string) =>
      at(tunisiaSeed.report.warnings, lineOf(code)).map((w) => ({ message: w.reason }));
    expect(warned('13012')[0].message).toContain('parent set to Ben Arous');
    expect(warned('41022')[0].message).toContain('"Gouvernorat de Kairouan" read as "Kairouan"');
    // Names are cleaned (doubled space, invisible mark), the cleaning reported.
    expect(orgs.get('tn-municipality-52013')!.nameFr).toBe('Bembla et Manarah');
    expect(orgs.get('tn-municipality-21011')!.nameFr).toBe('Nabeul');
    expect(warned('21011')[0].message).toContain('U+200E');
    // A French name shared by municipalities whose Arabic names differ is kept, and reported.
    expect(orgs.get('tn-municipality-51022')!.nameFr).toBe('Sousse');
    expect(warned('51022').some((w) => w.message.includes('also given to'))).toBe(true);
  });
});

describe('the administrative-division importers over synthetic files', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof emptyOrganizations>>;
  let seeds: Loaded[];
  const names = (fr: string) => ({ ar: 'اسم', en: fr, es: fr, fr });
  const DATASETS = [
    SOURCES.moroccoRegions.dataset,
    SOURCES.moroccoDivisions.dataset,
    SOURCES.moroccoCommunes.dataset,
    SOURCES.tunisiaMunicipalities.dataset,
  ];
  /** A record per line (pretty-printed), so each issue names its record's line. */
  const json = (file: string, value: unknown) =>
    writeFileSync(join(dir, file), JSON.stringify(value, null, 0).replace(/},{/g, '},\n{'));
  const importFile = async (kind: string, file: string) => {
    const importer = importers.find((i) => i.kind === kind)!;
    return runImport(kind, join(dir, file), [{ part: importer.part({}), ds: db.ds }], {
      cite: file,
      strict: false,
      dryRun: false,
      prune: false,
      batchSize: 2000,
      params: {},
    });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'admin-divisions-'));
    db = await emptyOrganizations();
    json('regions.json', {
      regions: [
        { id: 'REGION_01', name: names('Un') },
        { id: 'REGION_01', name: names('Un bis') },
        { name: names('Sans id') },
        { id: 'REGION_03', name: { ar: ' ', fr: '' } },
      ],
    });
    json('region-divisions.json', {
      region_divisions: [
        { id: 'DIV_001', name: names('  Province  A '), region_id: 'REGION_01', type: 'province' },
        { id: 'DIV_002', name: names('B'), region_id: 'REGION_09', type: 'prefecture' },
      ],
    });
    json('communes.json', {
      communes: [
        { id: 'COM_0001', name: names('C'), region_division_id: 'DIV_001', type: 'rural' },
        { id: 'COM_0002', name: names('D'), region_division_id: 'DIV_404', type: 'urbain' },
        { id: 'COM_0003', name: names('E'), region_division_id: 'DIV_001', type: 'autre' },
      ],
    });
    writeFileSync(
      join(dir, 'municipalities.csv'),
      [
        'municipal_id,name,name_ar,state,lat,lng',
        '34012,Bou Arada,بوعرادة,Siliana,0,0',
        '34012,Encore,مرة أخرى,Siliana,0,0',
        ',Sans code,بلا رمز,Siliana,0,0',
        '3401,Court,قصير,Gouvernorat de Siliana,0,0',
        '34013,,,Siliana,0,0',
      ].join('\n'),
    );
    const files = [
      ['admin-divisions', 'regions.json'],
      ['admin-divisions', 'region-divisions.json'],
      ['admin-divisions', 'communes.json'],
      ['tn-municipalities', 'municipalities.csv'],
    ];
    seeds = [];
    for (const [i, [kind, file]] of files.entries())
      seeds.push(await loaded(db.ds, DATASETS[i], await importFile(kind, file)));
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses records with no id, no name, or an id seen before', () => {
    expect(seeds[0].organizations.map((o) => o.id)).toEqual(['ma-region-01']);
    expect(seeds[0].organizations[0].nameFr).toBe('Un');
    expect(seeds[0].report.refused.map((i) => [i.line, i.reason])).toEqual([
      [2, 'duplicate key: the same record as line 1'],
      [3, 'no id'],
      [4, 'no name in any language (ar, en, es, fr)'],
    ]);
    expect(seeds[3].report.refused.map((i) => [i.line, i.reason])).toEqual([
      [3, 'duplicate municipal_id 34012 (line 3; first at line 2)'],
      [4, 'no municipal_id'],
      [6, 'no name and no name_ar'],
    ]);
  });

  it('keeps a unit whose parent is not stored, with a warning (the parent may be imported later)', () => {
    const divisions = byId(seeds[1]);
    expect(divisions.get('ma-division-001')).toMatchObject({
      parentId: 'ma-region-01',
      nameFr: 'Province A',
    });
    expect(divisions.get('ma-division-002')!.parentId).toBe('ma-region-09');
    expect(seeds[1].report.warnings).toContainEqual(
      expect.objectContaining({
        line: 2,
        column: 'region_id',
        reason: expect.stringContaining(
          'parent "ma-region-09" of ma-division-002 is neither in this file nor stored',
        ),
      }),
    );
    const communes = byId(seeds[2]);
    expect(communes.get('ma-commune-0002')!.parentId).toBe('ma-division-404');
    expect(communes.get('ma-commune-0003')!.classification).toBe('commune (autre)');
    expect([...new Set(seeds[2].report.warnings.map((w) => w.line))]).toEqual([3, 2]);
  });

  it('reports a municipal code that is not five digits, and keeps the row', () => {
    const short = byId(seeds[3]).get('tn-municipality-3401')!;
    expect(short.parentId).toBe('tn-governorate-siliana');
    const messages = at(seeds[3].report.warnings, 5).map((w) => w.reason);
    expect(messages).toContain('municipal_id "3401" is not the 5-digit official code');
    expect(seeds[3].organizations.filter((o) => o.classification === 'governorate')).toHaveLength(1);
  });

  it('changes nothing when a file is imported again', async () => {
    const again = await importFile('tn-municipalities', 'municipalities.csv');
    expect(again.parts[0].tables.organizations).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(again.parts[0].missing).toEqual({ count: 0, sample: [] });
  });
});
