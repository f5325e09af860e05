import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  moroccoCommuneId,
  moroccoDivisionId,
  moroccoRegionId,
  tunisiaGovernorateId,
  tunisiaMunicipalityId,
} from '../../common/src/keys';
import { DATASETS_DIR, SOURCES } from '../../common/src/sources';
import type { Organization } from '../../subgraphs/organizations/src/entities/Organization';
import { buildAdminDivisions } from '../../subgraphs/organizations/src/seed/admin-divisions';
import type { OrganizationSeed } from '../../subgraphs/organizations/src/seed/types';

// Expected values come from the files themselves, parsed again here, independently of the builder.

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

const byId = (seed: OrganizationSeed) => new Map(seed.organizations.map((o) => [o.id, o]));
const count = (orgs: Organization[], classification: string) =>
  orgs.filter((o) => o.classification === classification).length;

describe('buildAdminDivisions (real files)', () => {
  let seeds: OrganizationSeed[];
  let regionSeed: OrganizationSeed;
  let divisionSeed: OrganizationSeed;
  let communeSeed: OrganizationSeed;
  let tunisiaSeed: OrganizationSeed;

  beforeAll(() => {
    seeds = buildAdminDivisions();
    [regionSeed, divisionSeed, communeSeed, tunisiaSeed] = seeds;
  });

  it('returns one seed per file, each accounting for every source record', () => {
    expect(seeds.map((s) => s.report.dataset)).toEqual([
      SOURCES.moroccoRegions.dataset,
      SOURCES.moroccoDivisions.dataset,
      SOURCES.moroccoCommunes.dataset,
      SOURCES.tunisiaMunicipalities.dataset,
    ]);
    const sources = [regions.length, divisions.length, communes.length, municipalities.length];
    expect(sources).toEqual([12, 64, 881, 264]);
    seeds.forEach((s, i) => {
      const units = s.organizations.filter((o) => o.classification !== 'governorate');
      expect(units.length + s.report.refused.length).toBe(sources[i]);
      expect(s.report.refused).toEqual([]);
      expect(s.report.loaded).toEqual({
        organizations: s.organizations.length,
        organization_identifiers: s.identifiers.length,
      });
    });
  });

  it('builds the 12 Moroccan regions with their four names', () => {
    expect(regionSeed.organizations.map((o) => o.id)).toEqual(regions.map((r) => moroccoRegionId(r.id)));
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
    const warned = new Set(communeSeed.report.warnings.map((w) => w.record));
    for (const id of ['COM_0149', 'COM_0881', 'COM_0460', 'COM_0521', 'COM_0722', 'COM_0785']) {
      expect(warned.has(id)).toBe(true);
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
    const warned = (code: string) => tunisiaSeed.report.warnings.filter((w) => w.record === code);
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

describe('buildAdminDivisions (synthetic files)', () => {
  let dir: string;
  let seeds: OrganizationSeed[];
  const names = (fr: string) => ({ ar: 'اسم', en: fr, es: fr, fr });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'admin-divisions-'));
    mkdirSync(join(dir, 'morocco'));
    mkdirSync(join(dir, 'tunisia'));
    const json = (file: string, value: unknown) =>
      writeFileSync(join(dir, 'morocco', file), JSON.stringify(value));
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
      join(dir, 'tunisia', 'municipalities.csv'),
      [
        'municipal_id,name,name_ar,state,lat,lng',
        '34012,Bou Arada,بوعرادة,Siliana,0,0',
        '34012,Encore,مرة أخرى,Siliana,0,0',
        ',Sans code,بلا رمز,Siliana,0,0',
        '3401,Court,قصير,Gouvernorat de Siliana,0,0',
        '34013,,,Siliana,0,0',
      ].join('\n'),
    );
    seeds = buildAdminDivisions(dir);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses records with no id, no name, or an id seen before', () => {
    expect(seeds[0].organizations.map((o) => o.id)).toEqual(['ma-region-01']);
    expect(seeds[0].organizations[0].nameFr).toBe('Un');
    expect(seeds[0].report.refused).toEqual([
      { record: 'REGION_01', reason: 'duplicate id REGION_01 (record 1; first at record 0)' },
      { record: 'morocco/regions.json[2]', reason: 'no id' },
      { record: 'REGION_03', reason: 'no name in any language (ar, en, es, fr)' },
    ]);
    expect(seeds[3].report.refused).toEqual([
      { record: '34012', reason: 'duplicate municipal_id 34012 (line 3; first at line 2)' },
      { record: 'tunisia/municipalities.csv:line 4', reason: 'no municipal_id' },
      { record: '34013', reason: 'no name and no name_ar' },
    ]);
  });

  it('keeps a unit whose parent is missing, with a null parent and a warning', () => {
    const divisions = byId(seeds[1]);
    expect(divisions.get('ma-division-001')).toMatchObject({
      parentId: 'ma-region-01',
      nameFr: 'Province A',
    });
    expect(divisions.get('ma-division-002')!.parentId).toBeNull();
    expect(seeds[1].report.warnings).toContainEqual({
      record: 'DIV_002',
      message: 'region_id REGION_09 is not in the parent file; parent left null',
    });
    const communes = byId(seeds[2]);
    expect(communes.get('ma-commune-0002')!.parentId).toBeNull();
    expect(communes.get('ma-commune-0003')!.classification).toBe('commune (autre)');
    expect(seeds[2].report.warnings.map((w) => w.record)).toEqual(['COM_0002', 'COM_0003']);
  });

  it('reports a municipal code that is not five digits, and keeps the row', () => {
    const short = byId(seeds[3]).get('tn-municipality-3401')!;
    expect(short.parentId).toBe('tn-governorate-siliana');
    const messages = seeds[3].report.warnings.filter((w) => w.record === '3401').map((w) => w.message);
    expect(messages).toContain('municipal_id "3401" is not the 5-digit official code');
    expect(seeds[3].organizations.filter((o) => o.classification === 'governorate')).toHaveLength(1);
  });
});
