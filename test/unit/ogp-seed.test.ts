import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { importBundled } from '@civic/common/import/bundled';
import type { ImportReport } from '@civic/common/import/report';
import { institutionId } from '@civic/formats/keys';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { readOgpExport } from '@civic/formats/ogp-export';
import { ActionPlanEntity, type ActionPlan } from '@civic/subgraphs/commitments/src/entities/ActionPlan';
import { CommitmentEntity, type Commitment } from '@civic/subgraphs/commitments/src/entities/Commitment';
import {
  CommitmentCoLeadEntity,
  CommitmentOgpValueEntity,
  CommitmentPolicyAreaEntity,
  CommitmentSupporterEntity,
  type CommitmentCoLead,
  type CommitmentOgpValue,
  type CommitmentPolicyArea,
  type CommitmentSupporter,
} from '@civic/subgraphs/commitments/src/entities/CommitmentLinks';
import { importers as commitmentsImporters } from '@civic/subgraphs/commitments/src/import';
import {
  ORGANIZATION_KINDS,
  OrganizationEntity,
  type Organization,
} from '@civic/subgraphs/organizations/src/entities/Organization';
import {
  OrganizationIdentifierEntity,
  type OrganizationIdentifier,
} from '@civic/subgraphs/organizations/src/entities/OrganizationIdentifier';
import { importers as organizationsImporters } from '@civic/subgraphs/organizations/src/import';
import { MODULES, freshStorage } from '../support/system';

/*
 * The OGP files as the seed loads them: through the importers of kinds `ogp-commitments` and `ogp-local`, into
 * fresh SQLite databases (without the admin divisions, so the OGP Local members are the file's own records).
 * The facts the seed's builders were tested for, read back from the tables each dataset wrote.
 */

/** The export read independently of the code under test. */
const raw = parse(readFileSync(datasetPath(SOURCES.ogpCommitments.file), 'utf8'), {
  bom: true,
  columns: true,
}) as Record<string, string>[];
const rawRow = (id: string) => raw.find((r) => r['Commitment Unique Identifier'] === id)!;
const localFile = JSON.parse(readFileSync(datasetPath(SOURCES.ogpLocal.file), 'utf8')) as {
  sources: Record<string, { url: string }>;
};
const sha256 = (file: string) =>
  createHash('sha256')
    .update(readFileSync(datasetPath(file)))
    .digest('hex');
/** The import provenance of a record of a bundled file, stored as the source wrote it (no adjustment). */
const imported = (file: string) => ({
  sourceFile: `data/datasets/${file}`,
  sourceChecksum: sha256(file),
  sourceLine: expect.any(Number),
  importedAt: expect.any(String),
  rowDigest: expect.any(String),
  sourceAdjustments: null,
});

interface OrganizationSeed {
  organizations: Organization[];
  identifiers: OrganizationIdentifier[];
  report: ImportReport;
}
interface CommitmentsSeed {
  actionPlans: ActionPlan[];
  commitments: Commitment[];
  coLeads: CommitmentCoLead[];
  supporters: CommitmentSupporter[];
  policyAreas: CommitmentPolicyArea[];
  ogpValues: CommitmentOgpValue[];
  report: ImportReport;
}

const BUNDLED = [
  { kind: 'ogp-commitments', path: SOURCES.ogpCommitments.file },
  { kind: 'ogp-local', path: SOURCES.ogpLocal.file },
];
const byId = <T extends { id: string }>(rows: T[]) => rows.sort((a, b) => a.id.localeCompare(b.id));
const byKey = (i: OrganizationIdentifier) => `${i.organizationId} ${i.scheme} ${i.value}`;
const sortIdentifiers = (list: OrganizationIdentifier[]) =>
  [...list].sort((a, b) => byKey(a).localeCompare(byKey(b)));

async function organizationsOf(
  ds: DataSource,
  dataset: string,
  report: ImportReport,
): Promise<OrganizationSeed> {
  const organizations = byId(await ds.getRepository(OrganizationEntity).findBy({ sourceDataset: dataset }));
  const ids = new Set(organizations.map((o) => o.id));
  const identifiers = (await ds.getRepository(OrganizationIdentifierEntity).find()).filter((i) =>
    ids.has(i.organizationId),
  );
  return { organizations, identifiers: sortIdentifiers(identifiers), report };
}

async function commitmentsOf(
  ds: DataSource,
  dataset: string,
  report: ImportReport,
): Promise<CommitmentsSeed> {
  const commitments = byId(await ds.getRepository(CommitmentEntity).findBy({ sourceDataset: dataset }));
  const ids = new Set(commitments.map((c) => c.id));
  const mine = <T extends { commitmentId: string }>(rows: T[]) => rows.filter((r) => ids.has(r.commitmentId));
  return {
    actionPlans: byId(await ds.getRepository(ActionPlanEntity).findBy({ sourceDataset: dataset })),
    commitments,
    coLeads: mine(await ds.getRepository(CommitmentCoLeadEntity).find()),
    supporters: mine(await ds.getRepository(CommitmentSupporterEntity).find()),
    policyAreas: mine(await ds.getRepository(CommitmentPolicyAreaEntity).find()),
    ogpValues: mine(await ds.getRepository(CommitmentOgpValueEntity).find()),
    report,
  };
}

let orgExport: OrganizationSeed;
let orgLocal: OrganizationSeed;
let comExport: CommitmentsSeed;
let comLocal: CommitmentsSeed;
let close: () => Promise<void>;
beforeAll(async () => {
  const { storage, drop } = freshStorage('sqlite');
  const org = await prepareSubgraph(MODULES.organizations, storage.organizations, { seed: 'never' });
  const com = await prepareSubgraph(MODULES.commitments, storage.commitments, { seed: 'never' });
  close = async () => {
    await org.destroy();
    await com.destroy();
    await drop();
  };
  const [orgExportReport, orgLocalReport] = await importBundled(org, organizationsImporters, BUNDLED);
  const [comExportReport, comLocalReport] = await importBundled(com, commitmentsImporters, BUNDLED);
  orgExport = await organizationsOf(org, SOURCES.ogpCommitments.dataset, orgExportReport);
  orgLocal = await organizationsOf(org, SOURCES.ogpLocal.dataset, orgLocalReport);
  comExport = await commitmentsOf(com, SOURCES.ogpCommitments.dataset, comExportReport);
  comLocal = await commitmentsOf(com, SOURCES.ogpLocal.dataset, comLocalReport);
});
afterAll(() => close?.());

/** What a report says was inserted into each table. */
const inserted = (r: ImportReport) =>
  Object.fromEntries(Object.entries(r.parts[0].tables).map(([t, c]) => [t, c.inserted]));

const org = (seed: OrganizationSeed, id: string) => {
  const o = seed.organizations.find((x) => x.id === id);
  if (!o) throw new Error(`no organization ${id}`);
  return o;
};

describe('organizations from the commitments export (ogp-commitments)', () => {
  it('reports what it built, refusing nothing', () => {
    expect(orgExport.report.file).toBe(`data/datasets/${SOURCES.ogpCommitments.file}`);
    expect(orgExport.report.refused).toEqual([]);
    expect(inserted(orgExport.report)).toEqual({
      organizations: orgExport.organizations.length,
      organization_identifiers: orgExport.identifiers.length,
    });
    const ids = orgExport.organizations.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of orgExport.organizations) {
      expect(ORGANIZATION_KINDS).toContain(o.kind);
      expect(o.nameAr ?? o.nameFr ?? o.nameEn ?? o.nameEs).toBeTruthy();
      expect(o.sourceDataset).toBe(SOURCES.ogpCommitments.dataset);
    }
  });

  it('makes one organization per member, 75 as the raw Code column has', () => {
    const members = orgExport.organizations.filter((o) => o.ogpMembershipType !== null);
    expect(members).toHaveLength(new Set(raw.map((r) => r.Code)).size);
    expect(members).toHaveLength(75);
    const nationals = new Set(raw.filter((r) => r['National Or Local'] === 'National').map((r) => r.Code));
    // Kosovo ("Other") is national-level too.
    expect(members.filter((o) => o.ogpMembershipType === 'NATIONAL')).toHaveLength(nationals.size + 1);
  });

  it('gives Morocco its names in four languages and its identifiers', () => {
    expect(org(orgExport, 'gov-ma')).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'national government',
      country: 'MA',
      parentId: null,
      nameFr: 'Maroc',
      nameEn: 'Morocco',
      nameAr: 'المغرب',
      nameEs: 'Marruecos',
      ogpMembershipType: 'NATIONAL',
      ogpJoined: null,
      sourceUrl: SOURCES.ogpCommitments.url,
      sourceLicense: SOURCES.ogpCommitments.license,
    });
    // The first Moroccan commitment of the file.
    expect(org(orgExport, 'gov-ma').sourceRecord).toBe(
      raw.find((r) => r.Code === 'MAR')!['Commitment Unique Identifier'],
    );
    expect(orgExport.identifiers.filter((i) => i.organizationId === 'gov-ma')).toEqual(
      sortIdentifiers([
        { organizationId: 'gov-ma', scheme: 'ogp-member-code', value: 'MAR' },
        { organizationId: 'gov-ma', scheme: 'iso3166-1-alpha2', value: 'MA' },
      ]),
    );
    expect(org(orgExport, 'gov-tn').nameFr).toBe('Tunisie');
  });

  it('loads Kosovo as a national-level member with a warning, and no ISO identifier for XK', () => {
    expect(org(orgExport, 'gov-xk')).toMatchObject({
      country: 'XK',
      ogpMembershipType: 'NATIONAL',
      nameEn: 'Kosovo',
    });
    expect(orgExport.identifiers.filter((i) => i.organizationId === 'gov-xk')).toEqual([
      { organizationId: 'gov-xk', scheme: 'ogp-member-code', value: 'XKX' },
    ]);
    expect(orgExport.report.warnings).toContainEqual(
      expect.objectContaining({
        column: 'National Or Local',
        value: 'Other',
        reason: expect.stringContaining('"Other"'),
      }),
    );
    expect(rawRow('XK0011')['National Or Local']).toBe('Other');
  });

  it('loads local members with their locality name and country', () => {
    expect(org(orgExport, 'ogp-local-ngkd')).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'local government',
      country: 'NG',
      nameEn: 'Kaduna State, Nigeria',
      nameFr: null,
      ogpMembershipType: 'LOCAL',
    });
    expect(org(orgExport, 'ogp-local-gbsc').country).toBe('GB');
    expect(orgExport.identifiers).toContainEqual({
      organizationId: 'ogp-local-ngkd',
      scheme: 'ogp-member-code',
      value: 'NGKD',
    });
    expect(orgExport.identifiers.filter((i) => i.organizationId === 'ogp-local-ngkd')).toHaveLength(1);
  });

  it('makes one organization per institution and country, recorded with the first commitment naming it', () => {
    const lead = org(
      orgExport,
      institutionId('MA', 'Directorate of Budget (Ministry of Economy and Finance)'),
    );
    expect(lead).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'directorate',
      country: 'MA',
      parentId: null,
      nameEn: 'Directorate of Budget (Ministry of Economy and Finance)',
      nameFr: null,
      ogpMembershipType: null,
      sourceRecord: 'MO0012',
    });
    expect(org(orgExport, 'inst-ma-all-ministerial-departments')).toMatchObject({
      kind: 'GOVERNMENT',
      sourceRecord: 'MO0012',
    });
    expect(org(orgExport, 'inst-ma-archives-du-maroc')).toMatchObject({
      nameFr: 'Archives du Maroc',
      nameEn: null,
    });

    // "Ministry of Justice" is one organization per country, not one per mention.
    const justice = orgExport.organizations.filter((o) => o.nameEn === 'Ministry of Justice');
    expect(new Set(justice.map((o) => o.country)).size).toBe(justice.length);

    const rows = readOgpExport().rows;
    const firstMention = new Map<string, string>();
    for (const r of rows) {
      for (const i of [...r.leads, ...r.supporters])
        if (!firstMention.has(i.id)) firstMention.set(i.id, r.id);
    }
    const institutions = orgExport.organizations.filter((o) => o.id.startsWith('inst-'));
    expect(institutions).toHaveLength(firstMention.size);
    for (const o of institutions) expect([o.id, o.sourceRecord]).toEqual([o.id, firstMention.get(o.id)]);
  });
});

describe('organizations from the OGP Local members file (ogp-local)', () => {
  it('enriches the region and the municipality the admin-division seed owns', () => {
    // REGION_01 is Béni Mellal-Khénifra in the regions file.
    const regions = JSON.parse(readFileSync(datasetPath(SOURCES.moroccoRegions.file), 'utf8')) as {
      regions: { id: string; name: { fr: string } }[];
    };
    expect(regions.regions.find((r) => r.id === 'REGION_01')!.name.fr).toBe('Béni Mellal-Khénifra');
    expect(org(orgLocal, 'ma-region-01')).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'region',
      country: 'MA',
      nameFr: 'Béni Mellal-Khénifra',
      nameAr: 'بني ملال خنيفرة',
      ogpMembershipType: 'LOCAL',
      ogpJoined: '2022-05',
      sourceDataset: SOURCES.ogpLocal.dataset,
      sourceRecord: 'beni-mellal-khenifra',
    });
    expect(org(orgLocal, 'tn-municipality-33011')).toMatchObject({
      classification: 'municipality',
      country: 'TN',
      nameEn: 'El Kef',
      nameFr: 'Le Kef',
      ogpMembershipType: 'LOCAL',
      ogpJoined: '2021',
      sourceRecord: 'el-kef',
    });
    expect(orgLocal.identifiers).toEqual([
      { organizationId: 'tn-municipality-33011', scheme: 'tn-municipality', value: '33011' },
    ]);
    expect(orgLocal.report.refused).toEqual([]);
  });

  it('adds the members’ governing bodies and the organizations the file describes', () => {
    expect(org(orgLocal, 'org-beni-mellal-khenifra-government')).toMatchObject({
      kind: 'GOVERNMENT',
      classification: 'regional council',
      parentId: 'ma-region-01',
      nameFr: 'Conseil régional de Béni Mellal-Khénifra',
      ogpMembershipType: null,
    });
    expect(org(orgLocal, 'org-el-kef-government')).toMatchObject({
      classification: 'municipal council',
      parentId: 'tn-municipality-33011',
      nameAr: 'بلدية الكاف',
    });
    expect(org(orgLocal, 'org-ndi')).toMatchObject({ kind: 'INTERNATIONAL', country: 'US' });
    expect(org(orgLocal, 'org-twiza')).toMatchObject({
      kind: 'CIVIL_SOCIETY',
      country: 'TN',
      nameFr: 'Association TWIZA',
      sourceUrl: localFile.sources['ogp-member-pages'].url,
    });
    expect(org(orgLocal, 'org-ogp')).toMatchObject({ kind: 'INTERNATIONAL', country: null });
    expect(orgLocal.organizations).toHaveLength(7);
  });
});

describe('commitments from the commitments export (ogp-commitments)', () => {
  it('builds every commitment and action plan, refusing nothing', () => {
    expect(comExport.report.refused).toEqual([]);
    expect(comExport.commitments).toHaveLength(raw.length);
    expect(comExport.actionPlans).toHaveLength(new Set(raw.map((r) => r['Action Plan ID'])).size);
    expect(inserted(comExport.report)).toEqual({
      action_plans: comExport.actionPlans.length,
      commitments: comExport.commitments.length,
      commitment_co_lead_organizations: comExport.coLeads.length,
      commitment_supporting_organizations: comExport.supporters.length,
      commitment_policy_areas: comExport.policyAreas.length,
      commitment_ogp_values: comExport.ogpValues.length,
    });
  });

  it('builds AP_MAR01 from its rows', () => {
    expect(comExport.actionPlans.find((p) => p.id === 'AP_MAR01')).toEqual({
      id: 'AP_MAR01',
      memberId: 'gov-ma',
      memberName: 'Morocco',
      country: 'MA',
      number: 1,
      startYear: 2018,
      endYear: 2020,
      submittedOn: '2018',
      sourceDataset: SOURCES.ogpCommitments.dataset,
      sourceUrl: SOURCES.ogpCommitments.url,
      sourceLicense: SOURCES.ogpCommitments.license,
      sourceRecord: 'AP_MAR01',
      ...imported(SOURCES.ogpCommitments.file),
    });
    const plans = comExport.actionPlans;
    expect(
      plans
        .filter((p) => p.memberId === 'gov-ma')
        .map((p) => p.id)
        .sort(),
    ).toEqual([...new Set(raw.filter((r) => r.Code === 'MAR').map((r) => r['Action Plan ID']))].sort());
  });

  it('builds MO0012 with its lead, supporters, dates, assessment, policy areas and values', () => {
    const mo = comExport.commitments.find((c) => c.id === 'MO0012')!;
    expect(mo).toMatchObject({
      actionPlanId: 'AP_MAR01',
      title: rawRow('MO0012')['Commitment Title'],
      titleAr: null,
      titleFr: null,
      titleEn: null,
      titleEs: null,
      shortTitle: 'Budget Transparency Law',
      description: rawRow('MO0012')['Full Text'],
      theme: null,
      leadOrganizationId: institutionId('MA', 'Directorate of Budget (Ministry of Economy and Finance)'),
      startDate: '2018-06-01',
      endDate: '2020-03-31',
      startDateText: '6/1/2018',
      endDateText: '3/31/2020',
      specificity: null,
      verifiable: true,
      potentialImpact: 'MINOR',
      completionMidterm: null,
      completionEndOfTerm: 'COMPLETE',
      didItOpenGovernment: null,
      sourceDataset: SOURCES.ogpCommitments.dataset,
      sourceUrl: 'https://opengovpartnership.org/members/morocco/commitments/mo0012',
      sourceRecord: 'MO0012',
    });
    expect(comExport.supporters.filter((s) => s.commitmentId === 'MO0012')).toEqual([
      { commitmentId: 'MO0012', organizationId: 'inst-ma-all-ministerial-departments', position: 1 },
    ]);
    expect(comExport.policyAreas.filter((p) => p.commitmentId === 'MO0012').map((p) => p.policyArea)).toEqual(
      [
        'Anti-Corruption and Integrity',
        'Audits',
        'Fiscal Openness',
        'Publication Of Budget/Fiscal Information',
        'Open Parliaments',
      ],
    );
    expect(comExport.ogpValues.filter((v) => v.commitmentId === 'MO0012')).toEqual([
      { commitmentId: 'MO0012', value: 'ACCESS_TO_INFORMATION' },
    ]);
  });

  it('counts 16 Moroccan and 6 Tunisian commitments through their action plans', () => {
    const memberOf = new Map(comExport.actionPlans.map((p) => [p.id, p.memberId]));
    const count = (member: string) =>
      comExport.commitments.filter((c) => memberOf.get(c.actionPlanId) === member).length;
    expect(count('gov-ma')).toBe(raw.filter((r) => r.Code === 'MAR').length);
    expect(count('gov-ma')).toBe(16);
    expect(count('gov-tn')).toBe(6);
  });

  it('counts end-of-term completions as the raw column does', () => {
    for (const [label, value] of [
      ['Complete', 'COMPLETE'],
      ['Substantial', 'SUBSTANTIAL'],
      ['Limited', 'LIMITED'],
      ['Not Started', 'NOT_STARTED'],
      ['Unclear', 'UNCLEAR'],
    ]) {
      expect(comExport.commitments.filter((c) => c.completionEndOfTerm === value)).toHaveLength(
        raw.filter((r) => r['Completion (End Of Term)'] === label).length,
      );
    }
  });

  it('uses the commitment’s own page as its source URL when the row has one', () => {
    for (const c of comExport.commitments) {
      const url = rawRow(c.id).URL;
      expect(c.sourceUrl).toBe(/^https?:\/\//.test(url) ? url : SOURCES.ogpCommitments.url);
    }
  });

  it('refers only to organizations the organizations seeds build', () => {
    const ids = new Set(orgExport.organizations.map((o) => o.id));
    for (const p of comExport.actionPlans) expect(ids.has(p.memberId)).toBe(true);
    for (const c of comExport.commitments)
      if (c.leadOrganizationId) expect(ids.has(c.leadOrganizationId)).toBe(true);
    for (const s of [...comExport.coLeads, ...comExport.supporters])
      expect(ids.has(s.organizationId)).toBe(true);
    const localIds = new Set(orgLocal.organizations.map((o) => o.id));
    for (const p of comLocal.actionPlans) expect(localIds.has(p.memberId)).toBe(true);
  });

  it('stores every lead the cell names: the first as leadOrganizationId, the others from position 2', () => {
    const rows = new Map(readOgpExport().rows.map((r) => [r.id, r]));
    for (const c of comExport.commitments) {
      const r = rows.get(c.id)!;
      expect(c.leadInstitutionText).toBe(r.leadInstitutionText);
      expect(c.supportingInstitutionsText).toBe(r.supportingInstitutionsText);
      const coLeads = comExport.coLeads
        .filter((l) => l.commitmentId === c.id)
        .sort((a, b) => a.position - b.position);
      expect([c.leadOrganizationId, ...coLeads.map((l) => l.organizationId)].filter(Boolean)).toEqual(
        r.leads.map((l) => l.id),
      );
      expect(coLeads.map((l) => l.position)).toEqual(coLeads.map((_, i) => i + 2));
    }
    expect(comExport.coLeads.filter((l) => l.commitmentId === 'FR0001')).toEqual([
      {
        commitmentId: 'FR0001',
        organizationId: 'inst-fr-ministry-for-decentralization-and-the-civil-service',
        position: 2,
      },
    ]);
  });

  it('keeps supporters distinct, ordered from 1, and never a lead', () => {
    const byCommitment = new Map<string, number[]>();
    const lead = new Map(comExport.commitments.map((c) => [c.id, c.leadOrganizationId]));
    const coLeads = new Set(comExport.coLeads.map((l) => `${l.commitmentId}|${l.organizationId}`));
    const keys = new Set<string>();
    for (const s of comExport.supporters) {
      expect(s.organizationId).not.toBe(lead.get(s.commitmentId));
      expect(coLeads.has(`${s.commitmentId}|${s.organizationId}`)).toBe(false);
      const key = `${s.commitmentId}|${s.organizationId}`;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      byCommitment.set(s.commitmentId, [...(byCommitment.get(s.commitmentId) ?? []), s.position]);
    }
    for (const positions of byCommitment.values()) expect(positions).toEqual(positions.map((_, i) => i + 1));
  });
});

describe('commitments from the OGP Local members file (ogp-local)', () => {
  it('builds one action plan per plan of the file, on the administrative unit', () => {
    expect(comLocal.report.refused).toEqual([]);
    expect(
      comLocal.actionPlans.map((p) => [p.id, p.memberId, p.startYear, p.endYear, p.submittedOn]),
    ).toEqual([
      ['ogpl-beni-mellal-khenifra-2022', 'ma-region-01', 2022, 2027, '2022-11-30'],
      ['ogpl-el-kef-2021', 'tn-municipality-33011', 2021, 2023, '2021-08-26'],
      ['ogpl-el-kef-2024', 'tn-municipality-33011', 2024, 2027, null],
    ]);
    for (const p of comLocal.actionPlans) {
      expect(p).toMatchObject({
        number: null,
        sourceDataset: SOURCES.ogpLocal.dataset,
        sourceUrl: localFile.sources['ogp-member-pages'].url,
      });
    }
  });

  it('builds El Kef’s four described commitments and invents nothing else', () => {
    expect(comLocal.commitments.map((c) => c.id)).toEqual([
      'ogpl-el-kef-2021-01',
      'ogpl-el-kef-2021-02',
      'ogpl-el-kef-2021-03',
      'ogpl-el-kef-2021-04',
    ]);
    expect(comLocal.commitments[0]).toEqual({
      id: 'ogpl-el-kef-2021-01',
      actionPlanId: 'ogpl-el-kef-2021',
      title: "Système d'audit interne",
      titleAr: null,
      titleFr: "Système d'audit interne",
      titleEn: 'Internal audit system',
      titleEs: null,
      shortTitle: null,
      leadOrganizationName: null,
      leadInstitutionText: null,
      supportingInstitutionsText: null,
      description: null,
      theme: null,
      leadOrganizationId: null,
      startDate: null,
      endDate: null,
      startDateText: null,
      endDateText: null,
      specificity: null,
      verifiable: null,
      potentialImpact: null,
      completionMidterm: null,
      completionEndOfTerm: null,
      didItOpenGovernment: null,
      sourceDataset: SOURCES.ogpLocal.dataset,
      sourceUrl: localFile.sources['ogp-article'].url,
      sourceLicense: 'CC BY 4.0',
      sourceRecord: 'el-kef.actionPlans[0].commitmentsDescribed[0]',
      ...imported(SOURCES.ogpLocal.file),
    });
    expect(comLocal.commitments.map((c) => c.titleEn)).toEqual([
      'Internal audit system',
      'Digital spaces to access services',
      'Preserving digital archives',
      'Promoting inclusion',
    ]);
    expect(comLocal.supporters).toEqual([]);
    expect(comLocal.policyAreas).toEqual([]);
    expect(comLocal.ogpValues).toEqual([]);
  });
});
