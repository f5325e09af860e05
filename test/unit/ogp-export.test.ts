import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  classifyInstitution,
  guessNameLanguage,
  isMissing,
  parseCompletion,
  parseDidItOpenGovernment,
  parseFlag,
  parseOgpDate,
  parsePotentialImpact,
  parseSpecificity,
  parseVerifiable,
  readOgpExport,
  splitInstitutions,
  type OgpExport,
} from '@civic/formats/ogp-export';
import { institutionId } from '@civic/formats/keys';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import {
  COMPLETION,
  DID_IT_OPEN_GOVERNMENT,
  OGP_VALUES,
  POTENTIAL_IMPACT,
  SPECIFICITY,
} from '@civic/subgraphs/commitments/src/entities/Commitment';

const CSV = datasetPath(SOURCES.ogpCommitments.file);

/** The export read independently of the code under test: plain csv-parse, by header name. */
function readRaw(path = CSV): { header: string[]; rows: Record<string, string>[] } {
  const text = readFileSync(path, 'utf8');
  const header = (parse(text, { bom: true, to_line: 1 }) as string[][])[0];
  const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
  return { header, rows };
}

const raw = readRaw();
let data: OgpExport;
beforeAll(() => {
  data = readOgpExport(CSV);
});
const row = (id: string) => {
  const r = data.rows.find((x) => x.id === id);
  if (!r) throw new Error(`no row ${id}`);
  return r;
};
const rawRow = (id: string) => raw.rows.find((r) => r['Commitment Unique Identifier'] === id)!;

describe('readOgpExport on the real export', () => {
  it('reads every one of the 558 rows and refuses none', () => {
    expect(raw.rows).toHaveLength(558);
    expect(data.refused).toEqual([]);
    expect(data.rows).toHaveLength(raw.rows.length);
    expect(data.rows.map((r) => r.id)).toEqual(raw.rows.map((r) => r['Commitment Unique Identifier']));
  });

  it('reads MO0012 completely', () => {
    const mo = row('MO0012');
    expect(mo.member).toMatchObject({ id: 'gov-ma', country: 'MA', code: 'MAR', membershipType: 'NATIONAL' });
    expect(mo.actionPlanId).toBe('AP_MAR01');
    expect(mo).toMatchObject({ actionPlanNumber: 1, yearOfSubmission: 2018, actionPlanEndYear: 2020 });
    expect(mo.title).toBe(rawRow('MO0012')['Commitment Title']);
    expect(mo.shortTitle).toBe('Budget Transparency Law');
    expect(mo.theme).toBeNull(); // "NA"
    expect(mo.description).toBe(rawRow('MO0012')['Full Text']);
    expect(mo.lead).toEqual({
      id: institutionId('MA', 'Directorate of Budget (Ministry of Economy and Finance)'),
      name: 'Directorate of Budget (Ministry of Economy and Finance)',
    });
    expect(mo.lead!.id).toBe('inst-ma-directorate-of-budget-ministry-of-economy-and-finance');
    expect(mo.supporters).toEqual([
      { id: institutionId('MA', 'All ministerial departments'), name: 'All ministerial departments' },
    ]);
    expect(mo.startDate).toEqual({ iso: '2018-06-01', text: '6/1/2018' });
    expect(mo.endDate).toEqual({ iso: '2020-03-31', text: '3/31/2020' });
    expect(mo).toMatchObject({
      specificity: null,
      verifiable: true,
      potentialImpact: 'MINOR',
      completionMidterm: null,
      completionEndOfTerm: 'COMPLETE',
      didItOpenGovernment: null,
      ogpValues: ['ACCESS_TO_INFORMATION'],
      url: 'https://opengovpartnership.org/members/morocco/commitments/mo0012',
    });
  });

  it('finds 16 Moroccan and 6 Tunisian commitments, as the raw Code column says', () => {
    const byCode = (code: string) => raw.rows.filter((r) => r.Code === code).length;
    expect(byCode('MAR')).toBe(16);
    expect(byCode('TUN')).toBe(6);
    expect(data.rows.filter((r) => r.member.id === 'gov-ma')).toHaveLength(byCode('MAR'));
    expect(data.rows.filter((r) => r.member.id === 'gov-tn')).toHaveLength(byCode('TUN'));
  });

  it('keeps every action plan and every member of the file', () => {
    const plans = new Set(raw.rows.map((r) => r['Action Plan ID']));
    expect(new Set(data.rows.map((r) => r.actionPlanId))).toEqual(plans);
    expect(plans.size).toBe(214);
    const codes = new Set(raw.rows.map((r) => r.Code));
    expect(new Set(data.rows.map((r) => r.member.id)).size).toBe(codes.size);
    expect(codes.size).toBe(75);
  });

  it('maps each IRM column value by value, as counted in the raw columns', () => {
    const cases: [string, keyof OgpExport['rows'][number], Record<string, string | boolean | null>][] = [
      [
        'Specificity',
        'specificity',
        { None: 'NONE', Low: 'LOW', Medium: 'MEDIUM', High: 'HIGH', ND: null, NR: null },
      ],
      [
        'Potential Impact',
        'potentialImpact',
        {
          None: 'NONE',
          Minor: 'MINOR',
          Moderate: 'MODERATE',
          Transformative: 'TRANSFORMATIVE',
          ND: null,
          NR: null,
        },
      ],
      [
        'Completion (Progress Report)',
        'completionMidterm',
        {
          'Not Started': 'NOT_STARTED',
          Limited: 'LIMITED',
          Substantial: 'SUBSTANTIAL',
          Complete: 'COMPLETE',
          Withdrawn: 'WITHDRAWN',
          ND: null,
          NR: null,
          NA: null,
        },
      ],
      [
        'Completion (End Of Term)',
        'completionEndOfTerm',
        {
          'Not Started': 'NOT_STARTED',
          Limited: 'LIMITED',
          Substantial: 'SUBSTANTIAL',
          Complete: 'COMPLETE',
          Unclear: 'UNCLEAR',
          ND: null,
          NR: null,
        },
      ],
      [
        'Did It Open Government (Overall)',
        'didItOpenGovernment',
        {
          'Did Not Change': 'DID_NOT_CHANGE',
          Marginal: 'MARGINAL',
          Major: 'MAJOR',
          Outstanding: 'OUTSTANDING',
          Worsens: 'WORSENS',
          'No early results to report yet': 'NO_EARLY_RESULTS_YET',
          ND: null,
          NR: null,
        },
      ],
      ['Verifiable', 'verifiable', { Yes: true, No: false, '1': true, ND: null, NR: null }],
    ];
    for (const [column, field, expected] of cases) {
      for (const r of raw.rows) {
        const value = r[column];
        expect(Object.keys(expected)).toContain(value); // every value of the file is in the table above
        expect([
          column,
          r['Commitment Unique Identifier'],
          row(r['Commitment Unique Identifier'])[field],
        ]).toEqual([column, r['Commitment Unique Identifier'], expected[value]]);
      }
    }
    const completeRaw = raw.rows.filter((r) => r['Completion (End Of Term)'] === 'Complete').length;
    expect(completeRaw).toBe(71);
    expect(data.rows.filter((r) => r.completionEndOfTerm === 'COMPLETE')).toHaveLength(completeRaw);
    expect(data.rows.filter((r) => r.completionEndOfTerm === 'UNCLEAR')).toHaveLength(2);
  });

  it('produces only values of the entity enums', () => {
    for (const r of data.rows) {
      if (r.specificity) expect(SPECIFICITY).toContain(r.specificity);
      if (r.potentialImpact) expect(POTENTIAL_IMPACT).toContain(r.potentialImpact);
      if (r.completionMidterm) expect(COMPLETION).toContain(r.completionMidterm);
      if (r.completionEndOfTerm) expect(COMPLETION).toContain(r.completionEndOfTerm);
      if (r.didItOpenGovernment) expect(DID_IT_OPEN_GOVERNMENT).toContain(r.didItOpenGovernment);
      for (const v of r.ogpValues) expect(OGP_VALUES).toContain(v);
    }
  });

  it('warns about the stray "1" in Verifiable, naming the row, column and value', () => {
    const ones = raw.rows.filter((r) => r.Verifiable === '1').map((r) => r['Commitment Unique Identifier']);
    expect(ones).toEqual(['LT0033']);
    expect(row('LT0033').verifiable).toBe(true);
    expect(data.warnings).toContainEqual({
      record: 'LT0033',
      column: 'Verifiable',
      message: 'Verifiable: value "1" read as Yes',
    });
  });

  it('reads the policy-area flags between "Anti-Corruption and Integrity" and "Money in Politics"', () => {
    const first = raw.header.indexOf('Anti-Corruption and Integrity');
    const last = raw.header.indexOf('Money in Politics');
    expect([first, last]).toEqual([19, 104]);
    const areas = raw.header.slice(first, last + 1);
    expect(data.policyAreaColumns).toEqual(areas);
    expect(areas).toHaveLength(86);
    let total = 0;
    for (const r of raw.rows) {
      const expected = areas.filter((a) => r[a] === '1');
      total += expected.length;
      expect(row(r['Commitment Unique Identifier']).policyAreas).toEqual(expected);
    }
    expect(data.rows.reduce((n, r) => n + r.policyAreas.length, 0)).toBe(total);
    expect(row('MO0012').policyAreas).toEqual([
      'Anti-Corruption and Integrity',
      'Audits',
      'Fiscal Openness',
      'Publication Of Budget/Fiscal Information',
      'Open Parliaments',
    ]);
  });

  it('reads the four OGP value columns', () => {
    const columns: [string, string][] = [
      ['OGP Value Access To Information', 'ACCESS_TO_INFORMATION'],
      ['OGP Value Civic Participation', 'CIVIC_PARTICIPATION'],
      ['OGP Value Public Accountability', 'PUBLIC_ACCOUNTABILITY'],
      ['OGP Value Technology', 'TECHNOLOGY_AND_INNOVATION'],
    ];
    for (const [column, value] of columns) {
      const ones = raw.rows.filter((r) => r[column] === '1').length;
      expect(ones).toBeGreaterThan(0);
      expect(data.rows.filter((r) => r.ogpValues.includes(value as never))).toHaveLength(ones);
    }
  });

  it('parses or warns about every distinct date of the file', () => {
    for (const column of ['Start Date', 'End Date']) {
      const values = new Set(raw.rows.map((r) => r[column]));
      for (const v of values) {
        const p = parseOgpDate(v);
        expect([v, isMissing(v) || p.value !== null || p.warning !== null]).toEqual([v, true]);
        if (p.value) expect(p.value).toMatch(/^\d{4}(-\d{2}(-\d{2})?)?$/);
      }
      // A warning for exactly the rows whose date is there but unreadable, and the raw text is kept.
      const unreadable = raw.rows.filter(
        (r) => !isMissing(r[column]) && parseOgpDate(r[column]).value === null,
      );
      expect(data.warnings.filter((w) => w.column === column).map((w) => w.record)).toEqual(
        unreadable.map((r) => r['Commitment Unique Identifier']),
      );
      for (const r of raw.rows) {
        const d =
          column === 'Start Date'
            ? row(r['Commitment Unique Identifier']).startDate
            : row(r['Commitment Unique Identifier']).endDate;
        expect(d.text).toBe(r[column] === '' ? null : r[column].trim());
      }
    }
    expect(row('HR0044').startDate).toEqual({ iso: null, text: 'Underway' });
  });

  it('reads the Kosovo rows ("Other") as a national-level member with the user-assigned code XK', () => {
    for (const id of ['XK0011', 'XK0013']) {
      expect(rawRow(id)['National Or Local']).toBe('Other');
      expect(row(id).member).toEqual({
        id: 'gov-xk',
        code: 'XKX',
        country: 'XK',
        membershipType: 'NATIONAL',
        name: 'Kosovo',
        rawType: 'Other',
      });
      expect(row(id).lead).toBeNull(); // "NA"
      expect(row(id).supporters).toEqual([]);
    }
  });

  it('reads legacy local members with their country from "Country/Locality"', () => {
    const kaduna = data.rows.find((r) => r.member.code === 'NGKD')!;
    expect(kaduna.member).toMatchObject({ id: 'ogp-local-ngkd', country: 'NG', membershipType: 'LOCAL' });
    expect(kaduna.member.name).toBe('Kaduna State, Nigeria');
    const scotland = data.rows.filter((r) => r.member.code === 'GBSC');
    expect(scotland).toHaveLength(3);
    for (const r of scotland) expect(r.member).toMatchObject({ id: 'ogp-local-gbsc', country: 'GB' });
    // Institutions of a local member are keyed by the member's country.
    const sco1 = row('SCO0001');
    expect(sco1.lead).toEqual({
      id: 'inst-gb-financial-strategy-directorate',
      name: 'Financial Strategy Directorate',
    });
  });

  it('makes every name of a multi-name lead cell a lead, the first being the lead organization', () => {
    const r = data.rows.find(
      (x) =>
        x.member.code === 'MNG' &&
        rawRow(x.id)['Lead Institution'].startsWith(
          'Cabinet Secretariat of the Government of Mongolia, Ministry',
        ),
    )!;
    expect(r.leads.map((l) => l.name)).toEqual([
      'Cabinet Secretariat of the Government of Mongolia',
      'Ministry of Mining and Heavy lndustry',
    ]);
    expect(r.lead).toEqual(r.leads[0]);
    expect(r.supporters.map((s) => s.name)).not.toContain('Ministry of Mining and Heavy lndustry');
    expect(r.leadInstitutionText).toBe(rawRow(r.id)['Lead Institution']);
    // Leads and supporters are distinct, none appears twice.
    for (const x of data.rows) {
      const ids = [...x.leads, ...x.supporters].map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(x.lead).toEqual(x.leads[0] ?? null);
    }
  });

  it('keeps the lead cell verbatim, null only for an empty cell or a missing-value marker', () => {
    for (const x of data.rows) {
      const cell = rawRow(x.id)['Lead Institution'];
      expect(x.leadInstitutionText).toBe(isMissing(cell) ? null : cell);
    }
    // Untrimmed: LV0047's cell ends with two line breaks.
    expect(row('LV0047').leadInstitutionText).toMatch(/\n\n$/);
  });
});

describe('parseOgpDate', () => {
  it.each([
    ['6/1/2018', '2018-06-01'], // M/D/YYYY
    ['3/31/2020', '2020-03-31'],
    ['1/1/19', '2019-01-01'], // two-digit year
    ['12/31/15', '2015-12-31'],
    ['28/5/2014', '2014-05-28'], // D/M when the first number cannot be a month
    ['31/12/2016', '2016-12-31'],
    ['2008', '2008'], // year only
    ['June 2016', '2016-06'],
    ['December 2022', '2022-12'],
    ['III quarter of 2022', '2022'], // a quarter says the year, no month
    ['IV quarter of 2020', '2020'],
    ['Quarter 1 2014', '2014'],
    ['Spring 2015', '2015'],
    ['43525', '2019-03-01'], // Excel serial: days since 1899-12-30
    ['44439', '2021-08-31'],
    ['junio de 2016', '2016-06'], // Spanish month names
    ['30 de junio de 2016', '2016-06-30'],
    ['Septiembre 2015', '2015-09'],
    ['enero 2015', '2015-01'],
    ['June 30, 2016', '2016-06-30'],
    ['2016-06-01', '2016-06-01'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseOgpDate(text)).toEqual({ value: iso, warning: null });
  });

  it.each(['In progress', 'Ongoing', 'Permanent activity', 'Underway', '2/30/2019', '13/14/2019', '12345'])(
    'gives null with a warning for %s',
    (text) => {
      const p = parseOgpDate(text);
      expect(p.value).toBeNull();
      expect(p.warning).toContain(text);
    },
  );

  it.each(['NA', 'ND', 'NR', 'N/A', '', 'Unclear'])(
    'gives null without a warning for the marker "%s"',
    (text) => {
      expect(parseOgpDate(text)).toEqual({ value: null, warning: null });
    },
  );
});

describe('missing values and scales', () => {
  it('knows the missing-value markers', () => {
    for (const m of ['ND', 'NR', 'NA', 'N/A', '', ' na ', 'Unclear']) expect(isMissing(m)).toBe(true);
    for (const v of ['0', 'None', 'Limited', 'Nadia']) expect(isMissing(v)).toBe(false);
  });

  it('reads "Unclear" as a value on the completion scale only', () => {
    expect(parseCompletion('Unclear')).toEqual({ value: 'UNCLEAR', warning: null });
    expect(parseSpecificity('Unclear')).toEqual({ value: null, warning: null });
    expect(parseDidItOpenGovernment('Unclear')).toEqual({ value: null, warning: null });
  });

  it('warns about unexpected values and keeps them out', () => {
    expect(parseSpecificity('Very high')).toEqual({
      value: null,
      warning: expect.stringContaining('"Very high"'),
    });
    expect(parsePotentialImpact('constructor').value).toBeNull();
    expect(parseDidItOpenGovernment('No early results to report yet').value).toBe('NO_EARLY_RESULTS_YET');
    expect(parseVerifiable('Maybe')).toEqual({ value: null, warning: expect.stringContaining('"Maybe"') });
    expect(parseVerifiable('No')).toEqual({ value: false, warning: null });
    expect(parseFlag('ND')).toEqual({ value: false, warning: null });
    expect(parseFlag('NA')).toEqual({ value: false, warning: null });
    expect(parseFlag('yes')).toEqual({ value: false, warning: expect.stringContaining('"yes"') });
  });
});

describe('splitInstitutions', () => {
  const names = (cell: string) => splitInstitutions(cell).names;

  it('gives nothing for missing-value markers and "None"', () => {
    for (const m of ['NA', 'N/A', 'ND', 'None', '', 'Unclear', 'See Action Plan'])
      expect(names(m)).toEqual([]);
  });

  it('splits on bullets, including the Wingdings bullets pasted from Word', () => {
    expect(
      names('•\tDepartment of Treasury\n•\tDepartment of Finance\n•\tMineral Resource Authority'),
    ).toEqual(['Department of Treasury', 'Department of Finance', 'Mineral Resource Authority']);
    expect(names('\uf0b7 Presidency of the Republic \uf0b7 ARTICLE 19 \uf0b7 UNDP')).toEqual([
      'Presidency of the Republic',
      'ARTICLE 19',
      'UNDP',
    ]);
    expect(names('● Citizens Foundation; ● Academics Network.')).toEqual([
      'Citizens Foundation',
      'Academics Network',
    ]);
  });

  it('splits on newlines and semicolons, and trims trailing punctuation', () => {
    expect(names('Ministry of Culture and Information\nBusiness Registers Agency')).toEqual([
      'Ministry of Culture and Information',
      'Business Registers Agency',
    ]);
    expect(names('Commission for the Prevention of Corruption; Ministry of Justice.')).toEqual([
      'Commission for the Prevention of Corruption',
      'Ministry of Justice',
    ]);
    expect(names('EITI Secretariat\n')).toEqual(['EITI Secretariat']);
  });

  it('splits leading-dash lists and enumerations', () => {
    expect(names('-Ministry of ICT and Digital Economy -Executive Office of the President')).toEqual([
      'Ministry of ICT and Digital Economy',
      'Executive Office of the President',
    ]);
    expect(
      names('Ministry of Justice and Human Right;\n- Parliament;\n- Presidency of the Republic'),
    ).toEqual(['Ministry of Justice and Human Right', 'Parliament', 'Presidency of the Republic']);
    expect(
      names(
        '1. Head of Bureau for Legal and Public Complaints of DPR RI, 2. Head of Bureau for Session I of DPR RI',
      ),
    ).toEqual([
      'Head of Bureau for Legal and Public Complaints of DPR RI',
      'Head of Bureau for Session I of DPR RI',
    ]);
    expect(names('(a)        Secretary General,\n(b)        Head of Parliamentary Expertise Agency')).toEqual(
      ['Secretary General', 'Head of Parliamentary Expertise Agency'],
    );
  });

  it('splits on commas only before what reads as another name', () => {
    expect(names('Ministry of Economy, Finance and Industry')).toEqual([
      'Ministry of Economy, Finance and Industry',
    ]);
    expect(names('Ministry of Local Government, Decentralisation, and Rural Development')).toEqual([
      'Ministry of Local Government, Decentralisation, and Rural Development',
    ]);
    expect(names('Ministry of Regional Development, Construction and Communal Services')).toEqual([
      'Ministry of Regional Development, Construction and Communal Services',
    ]);
    expect(names('Minister for Local Affairs (MLA), Ministry of Justice, etc.')).toEqual([
      'Minister for Local Affairs (MLA)',
      'Ministry of Justice',
    ]);
    expect(names('Department of Treasury, Department of Justice')).toEqual([
      'Department of Treasury',
      'Department of Justice',
    ]);
    expect(names("Department of Treasury, Auditor General's Office")).toEqual([
      'Department of Treasury',
      "Auditor General's Office",
    ]);
    expect(names('IEA, CDD, IDEG')).toEqual(['IEA', 'CDD', 'IDEG']);
    expect(names('Ghana Anti-Corruption Coalition (GACC), Ghana Integrity Initiative (GII).')).toEqual([
      'Ghana Anti-Corruption Coalition (GACC)',
      'Ghana Integrity Initiative (GII)',
    ]);
    // Never inside parentheses.
    expect(names('Directorate of Budget (Ministry of Economy and Finance)')).toEqual([
      'Directorate of Budget (Ministry of Economy and Finance)',
    ]);
    expect(
      names('Counseling and Legislation (Department of\nConstitutional-Public Law), Ministry of Justice'),
    ).toEqual([
      'Counseling and Legislation (Department of Constitutional-Public Law)',
      'Ministry of Justice',
    ]);
  });

  it('joins wrapped lines and drops template headings, labels and prose', () => {
    expect(names('Comisión Especial de Parlamento \n  Abierto')).toEqual([
      'Comisión Especial de Parlamento Abierto',
    ]);
    expect(names('Unit for Access to Public Information\n(UAIP).')).toEqual([
      'Unit for Access to Public Information (UAIP)',
    ]);
    expect(
      names(
        'State actors involved Parliament of Ghana \n\nCSOs, private sector, multilaterals, working groups IMANI Africa',
      ),
    ).toEqual(['Parliament of Ghana', 'IMANI Africa']);
    expect(names('CSOs: Involve, The Democratic Society')).toEqual(['Involve, The Democratic Society']);
    expect(names('Office of the Attorney General and Ministry of Justice')).toEqual([
      'Office of the Attorney General',
      'Ministry of Justice',
    ]);
    const prose = splitInstitutions('(Relevant partners will be involved as appropriate).');
    expect(prose.names).toEqual([]);
    expect(prose.skipped).toEqual(['(Relevant partners will be involved as appropriate)']);
    expect(splitInstitutions('• Government\n• Ministry of Finance').skipped).toEqual(['Government']);
  });

  it('decodes HTML entities and deduplicates names', () => {
    expect(names('Confédération Générale des Entreprises de Côte d&#39;Ivoire (CGECI)')).toEqual([
      "Confédération Générale des Entreprises de Côte d'Ivoire (CGECI)",
    ]);
    expect(names('Cámara de Diputados \nCámara de Diputados \nCÁMARA DE DIPUTADOS')).toEqual([
      'Cámara de Diputados',
    ]);
  });

  it('reads lists: "A; B", "A, B and the C", "A, B, and ACRONYM", spaced dashes between names', () => {
    expect(names('Ministry of the Interior; Ministry for Decentralization and the Civil Service')).toEqual([
      'Ministry of the Interior',
      'Ministry for Decentralization and the Civil Service',
    ]);
    expect(names('State Chancellery, Society Integration Foundation and the Ministry of Culture')).toEqual([
      'State Chancellery',
      'Society Integration Foundation',
      'Ministry of Culture',
    ]);
    expect(names('Governance Commission, the Legislature, LACC, LRC, and MOFA.')).toEqual([
      'Governance Commission, the Legislature',
      'LACC',
      'LRC',
      'MOFA',
    ]);
    expect(names('Congreso de la República. Senado – Cámara de Representantes')).toEqual([
      'Congreso de la República',
      'Senado',
      'Cámara de Representantes',
    ]);
    // A dash before an acronym gives the name's abbreviation; one person holding two offices stays one.
    expect(names('Ministry of Public Administration and Local Self-Government - MPALSG')).toEqual([
      'Ministry of Public Administration and Local Self-Government - MPALSG',
    ]);
    expect(names('Society for Transparency - Delna')).toEqual(['Society for Transparency - Delna']);
    expect(names('Deputy Prime Minister and the Minister of Justice')).toEqual([
      'Deputy Prime Minister and the Minister of Justice',
    ]);
  });

  it('keeps an institution before a colon, its units after it being parts of it', () => {
    const mn = splitInstitutions(
      'Ministry of Finance: Fiscal Policy and Planning Dept, Public Investment Dept, Treasury Office',
    );
    expect(mn.names).toEqual(['Ministry of Finance']);
    expect(mn.parts).toEqual([
      'Fiscal Policy and Planning Dept',
      'Public Investment Dept',
      'Treasury Office',
    ]);
    // A label still announces what follows.
    expect(names('Coordinador: Ministerio de Finanzas Públicas (MINFIN)')).toEqual([
      'Ministerio de Finanzas Públicas (MINFIN)',
    ]);
  });

  it('finds the institutions in sentences that are not names', () => {
    const es = splitInstitutions(rawRow('ES0090')['Lead Institution']);
    expect(es.names).toEqual([
      'Council of the Government of the Balearic Islands',
      'Ministry of Public Administrations and Modernisation',
      'Directorate General of Transparency and Good Governance',
      'Parliament of the Balearic Islands',
    ]);
    expect(es.skipped).toEqual([]);
    expect(names(rawRow('SK0119')['Lead Institution'])).toEqual([
      'Plenipotentiary of the Government for the Development of Civil Society',
      'Deputy Prime Minister and Minister of the Interior',
      'Slovak National Center for Human Rights',
    ]);
    const tn = splitInstitutions(rawRow('TN0008')['Lead Institution']);
    expect(tn.names).toEqual([
      'Secretariat of state in charge of governance and civil service (The general directorate for reforms and prospective studies)',
      'Ministry of Economy and Finance',
    ]);
    expect(tn.skipped).toEqual(['all concerned parties']);
    // Names glued to a parenthesis; a lowercase role in parentheses after the name is not part of it.
    expect(names(rawRow('LV0040')['Lead Institution'])).toEqual([
      'Procurement Monitoring Bureau (PMB)',
      'Central Finance and Contracts Agency (CFLA)',
    ]);
  });

  it('never splits inside "Ph.D." or before an initial', () => {
    const ph = names(rawRow('PH0055')['Supporting Institution(s)']);
    expect(ph).toContain('Dionisio Neil Balite,Ph.D. – Chief of Staff');
    expect(ph).toContain('Bonifacio Quirog, Ph. D. – Sangguninang Panlalawigan Secretary');
    for (const n of ph) expect(n).not.toMatch(/^(?:Ph|D)\b|\bPh$/);
  });

  it('gives MO0012 its two institutions', () => {
    expect(names(rawRow('MO0012')['Lead Institution'])).toEqual([
      'Directorate of Budget (Ministry of Economy and Finance)',
    ]);
    expect(names(rawRow('MO0012')['Supporting Institution(s)'])).toEqual(['All ministerial departments']);
  });
});

describe('classifyInstitution and guessNameLanguage', () => {
  it.each([
    ['Ministry of Justice', 'GOVERNMENT', 'ministry'],
    ['Ministerio de Hacienda y Administraciones Públicas', 'GOVERNMENT', 'ministry'],
    ['Ministère de la Justice', 'GOVERNMENT', 'ministry'],
    ['Hellenic Parliament', 'GOVERNMENT', 'parliament'],
    ['House of Representatives', 'GOVERNMENT', 'parliament'],
    ['Directorate of Budget (Ministry of Economy and Finance)', 'GOVERNMENT', 'directorate'],
    ['Danish Business Agency', 'GOVERNMENT', 'agency'],
    ['City of Milan', 'GOVERNMENT', 'municipality'],
    ['Council for the Development of Civil Society', 'GOVERNMENT', 'council'],
    ['Bank of Ghana', 'GOVERNMENT', 'central bank'],
    ['Ghana Journalists Association (GJA)', 'CIVIL_SOCIETY', 'association'],
    ['Fundación Directorio Legislativo', 'CIVIL_SOCIETY', 'foundation'],
    ['Transparency International Estonia', 'CIVIL_SOCIETY', 'ngo'],
    ['Ghana Anti-Corruption Coalition (GACC)', 'CIVIL_SOCIETY', 'coalition'],
    ['Universidad Provincial de la Administración Pública de Salta (UPAP)', 'ACADEMIC', 'university'],
    ['University of Ghana', 'ACADEMIC', 'university'],
    ['American Chamber of Commerce', 'PRIVATE', 'chamber of commerce'],
    ['Nova TV d.d.', 'PRIVATE', 'company'],
    ['World Bank', 'INTERNATIONAL', 'international organization'],
    ['UNDP', 'INTERNATIONAL', 'international organization'],
    ['United States Agency for International Development', 'INTERNATIONAL', 'international organization'],
    ['European Union', 'INTERNATIONAL', 'international organization'],
    ['OECD', 'INTERNATIONAL', 'international organization'],
    ['ProDemos', 'OTHER', null],
  ])('%s is %s / %s', (name, kind, classification) => {
    expect(classifyInstitution(name)).toEqual({ kind, classification });
  });

  it('tells clearly French or Spanish names from the rest', () => {
    expect(guessNameLanguage('Archives du Maroc')).toBe('fr');
    expect(guessNameLanguage('Confédération Générale des Entreprises de Côte d’Ivoire (CGECI)')).toBe('fr');
    expect(guessNameLanguage('Secretaría Nacional Anticorrupción (SENAC)')).toBe('es');
    expect(guessNameLanguage('Asamblea Legislativa de la República de Costa Rica')).toBe('es');
    expect(guessNameLanguage('Directorate of Budget (Ministry of Economy and Finance)')).toBe('en');
    expect(guessNameLanguage('Kepala Biro Pemberitaan Parlemen')).toBe('en');
  });
});

describe('readOgpExport on a synthetic export', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ogp-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The real header and MO0012's cells (its full text on one line), with some cells replaced. */
  function csvWith(rows: Record<string, string>[]): string {
    const base: Record<string, string> = { ...rawRow('MO0012'), 'Full Text': 'Budget transparency.' };
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const lines = [raw.header.map(quote).join(',')];
    for (const r of rows) lines.push(raw.header.map((h) => quote(h in r ? r[h] : base[h])).join(','));
    return `\uFEFF${lines.join('\r\n')}\r\n`;
  }

  it('stores a title, short title and theme trimmed, each padded cell kept verbatim as an adjustment', () => {
    const path = join(dir, 'padded.csv');
    writeFileSync(
      path,
      csvWith([
        {
          'Commitment Unique Identifier': 'T0100',
          'Commitment Title': '  Open budgets\u00a0',
          'Short Title': 'Budgets',
          Theme: ' Fiscal Openness ',
        },
      ]),
    );
    const [r] = readOgpExport(path).rows;
    expect([r.title, r.shortTitle, r.theme]).toEqual(['Open budgets', 'Budgets', 'Fiscal Openness']);
    // In the order the row is read: theme, then title.
    expect(r.adjustments).toEqual([
      {
        column: 'Theme',
        field: 'theme',
        asWritten: ' Fiscal Openness ',
        stored: 'Fiscal Openness',
        reasons: ['TRIMMED'],
      },
      {
        column: 'Commitment Title',
        field: 'title',
        asWritten: '  Open budgets\u00a0',
        stored: 'Open budgets',
        reasons: ['TRIMMED'],
      },
    ]);
    // MO0012 as the export writes it: nothing to say.
    expect(row('MO0012').adjustments).toEqual([]);
  });

  it('refuses rows missing an id, an action plan or a title, and duplicate ids, with reasons', () => {
    const path = join(dir, 'refusals.csv');
    writeFileSync(
      path,
      csvWith([
        { 'Commitment Unique Identifier': 'T0001' },
        { 'Commitment Unique Identifier': '' }, // line 3
        { 'Commitment Unique Identifier': 'T0001' }, // line 4: duplicate
        { 'Commitment Unique Identifier': 'T0002', 'Commitment Title': 'NA' },
        { 'Commitment Unique Identifier': 'T0003', 'Action Plan ID': '' },
        { 'Commitment Unique Identifier': 'T0004', 'Full Text': 'é'.repeat(40000) }, // 80,000 bytes
        {
          'Commitment Unique Identifier': 'T0005',
          'National Or Local': 'National',
          Code: 'ZZZ',
          'Country/Locality': 'Atlantis',
        },
        { 'Commitment Unique Identifier': 'T0006', 'Full Text': 'x'.repeat(28000) }, // long, but fits
      ]),
    );
    const out = readOgpExport(path);
    expect(out.rows.map((r) => r.id)).toEqual(['T0001', 'T0006']);
    expect(out.refused).toEqual([
      { record: 'line 3', reason: 'no "Commitment Unique Identifier"' },
      { record: 'line 4', reason: 'duplicate "Commitment Unique Identifier" T0001 (first on line 2)' },
      { record: 'T0002', reason: 'no "Commitment Title"' },
      { record: 'T0003', reason: 'no "Action Plan ID"' },
      { record: 'T0004', reason: expect.stringContaining('80000 bytes') },
      { record: 'T0005', reason: 'member Code "ZZZ" is not an ISO 3166-1 alpha-3 code' },
    ]);
    expect(out.rows[1].description).toHaveLength(28000);
  });

  it('counts lines of multi-line cells, and warns about unexpected values naming row, column and value', () => {
    const path = join(dir, 'warnings.csv');
    writeFileSync(
      path,
      csvWith([
        { 'Commitment Unique Identifier': 'T0010', 'Full Text': 'one\ntwo\nthree' },
        {
          'Commitment Unique Identifier': 'T0011',
          Specificity: 'Very high',
          'Start Date': 'Sometime',
          'OGP Value Technology': 'yes',
          Audits: '2',
        },
        { 'Commitment Unique Identifier': '' },
      ]),
    );
    const out = readOgpExport(path);
    expect(out.rows[1]).toMatchObject({
      id: 'T0011',
      line: 5,
      specificity: null,
      startDate: { iso: null, text: 'Sometime' },
    });
    expect(out.refused).toEqual([{ record: 'line 6', reason: 'no "Commitment Unique Identifier"' }]);
    const w = out.warnings.filter((x) => x.record === 'T0011');
    expect(w.map((x) => x.column).sort()).toEqual([
      'Audits',
      'OGP Value Technology',
      'Specificity',
      'Start Date',
    ]);
    expect(w.find((x) => x.column === 'Specificity')!.message).toContain('"Very high"');
    expect(out.rows[1].policyAreas).not.toContain('Audits');
  });

  it('refuses a file without the columns it reads by name', () => {
    const path = join(dir, 'no-columns.csv');
    writeFileSync(path, 'Commitment Unique Identifier,Title\nX1,Y\n');
    expect(() => readOgpExport(path)).toThrow(/no column "Country\/Locality"/);
  });
});
