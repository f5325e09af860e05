import { readCsv } from '../support/datasets';
import { BACKENDS, systemsPerBackend, type System } from '../support/system';

/*
 * The export's "Lead Institution" cells against the API, for every one of the 558 commitments: the cell comes
 * back verbatim as `leadInstitutionText`, and every institution the API derives from it (`leadOrganizations`)
 * is named in it. Expected values come from the file, read here with csv-parse, never from the seed code.
 */

const ogp = readCsv('ogp/ogp-commitments-export.csv');
const ID = 'Commitment Unique Identifier';
const LEAD = 'Lead Institution';
const cellOf = new Map(ogp.map((r) => [r[ID], r[LEAD]]));

/** The export's missing-value markers: the only cells `leadInstitutionText` gives as null. */
const isMissing = (v: string) => /^(?:|na|n\/a|nd|nr|unclear)$/i.test(v.trim());
/**
 * Whitespace collapsed (a name read across the cell's line breaks is written on one line) and NFC (HN0005's
 * cell writes "ó" as "o" and a combining accent; the name is the same text, composed).
 */
const spaced = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();
/** Case, accents, punctuation and "&" for "and" aside: how institution ids unify spellings. */
const folded = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

const QUERY = /* GraphQL */ `
  query Leads($first: Int!, $after: String) {
    commitments(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
        shortTitle
        theme
        source {
          adjustments {
            column
            field
            asWritten
            stored
            reasons
          }
        }
        leadInstitutionText
        supportingInstitutionsText
        leadOrganization {
          id
          name
        }
        leadOrganizations {
          id
          name
        }
        supportingOrganizations {
          id
        }
      }
    }
  }
`;

interface Node {
  id: string;
  title: string;
  shortTitle: string | null;
  theme: string | null;
  source: {
    adjustments: {
      column: string;
      field: string;
      asWritten: string;
      stored: string | null;
      reasons: string[];
    }[];
  };
  leadInstitutionText: string | null;
  supportingInstitutionsText: string | null;
  leadOrganization: { id: string; name: string } | null;
  leadOrganizations: { id: string; name: string }[];
  supportingOrganizations: { id: string }[];
}

async function allCommitments(sys: System): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  let after: string | null = null;
  for (;;) {
    const res: any = await sys.queryGateway(QUERY, { first: 100, after });
    expect(res.errors).toBeUndefined();
    for (const n of res.data.commitments.nodes as Node[]) out.set(n.id, n);
    if (!res.data.commitments.pageInfo.hasNextPage) return out;
    after = res.data.commitments.pageInfo.endCursor;
  }
}

const systemOf = systemsPerBackend();

/** The export's text columns stored trimmed, by the Commitment field that shows each. */
const TEXT_COLUMNS = [
  { column: 'Commitment Title', field: 'title' },
  { column: 'Short Title', field: 'shortTitle' },
  { column: 'Theme', field: 'theme' },
] as const;

describe.each(BACKENDS)('titles and themes as the export writes them, on %s', (backend) => {
  let nodes: Map<string, Node>;
  beforeAll(async () => {
    nodes = await allCommitments(await systemOf(backend));
  });

  it('gives every title, short title and theme as its cell, or says how it differs', () => {
    let adjusted = 0;
    for (const row of ogp) {
      const n = nodes.get(row[ID])!;
      for (const { column, field } of TEXT_COLUMNS) {
        const cell = row[column];
        const value = n[field];
        const adjustment = n.source.adjustments.find((a) => a.column === column);
        if (isMissing(cell)) {
          expect({ id: n.id, field, value }).toEqual({ id: n.id, field, value: null });
        } else if (value === cell) {
          expect({ id: n.id, field, adjustment }).toEqual({ id: n.id, field, adjustment: undefined });
        } else {
          adjusted += 1;
          expect({ id: n.id, adjustment }).toEqual({
            id: n.id,
            adjustment: { column, field, asWritten: cell, stored: value, reasons: ['TRIMMED'] },
          });
          expect(value).toBe(cell.trim());
        }
      }
    }
    // The bundled export has no title, short title or theme with spaces around it: every cell comes back as is.
    expect(adjusted).toBe(
      ogp.filter((r) =>
        TEXT_COLUMNS.some(({ column }) => !isMissing(r[column]) && r[column] !== r[column].trim()),
      ).length,
    );
  });
});

describe.each(BACKENDS)('lead institutions as the export writes them, on %s', (backend) => {
  let byId: Map<string, Node>;
  beforeAll(async () => {
    byId = await allCommitments(systemOf(backend));
  });
  const names = (id: string) => byId.get(id)!.leadOrganizations.map((o) => o.name);

  test('leadInstitutionText is each of the 558 cells verbatim (null only for an empty cell or NA)', () => {
    expect(ogp).toHaveLength(558);
    const differing = ogp.filter((r) => {
      const node = byId.get(r[ID]);
      return !node || node.leadInstitutionText !== (isMissing(r[LEAD]) ? null : r[LEAD]);
    });
    expect(differing.map((r) => r[ID])).toEqual([]);
  });

  test('supportingInstitutionsText is each of the 558 supporting cells verbatim (null only when empty or NA)', () => {
    const SUPPORTING = 'Supporting Institution(s)';
    const differing = ogp.filter((r) => {
      const node = byId.get(r[ID]);
      return !node || node.supportingInstitutionsText !== (isMissing(r[SUPPORTING]) ? null : r[SUPPORTING]);
    });
    expect(differing.map((r) => r[ID])).toEqual([]);
    expect(ogp.filter((r) => !isMissing(r[SUPPORTING])).length).toBe(394);
  });

  test('leadOrganization is the first of leadOrganizations; no lead is also a supporter', () => {
    for (const id of cellOf.keys()) {
      const n = byId.get(id)!;
      expect([id, n.leadOrganization]).toEqual([id, n.leadOrganizations[0] ?? null]);
      const leads = new Set(n.leadOrganizations.map((o) => o.id));
      expect(leads.size).toBe(n.leadOrganizations.length);
      expect([id, n.supportingOrganizations.filter((s) => leads.has(s.id))]).toEqual([id, []]);
    }
  });

  test('every institution name the API derives is written in its cell', () => {
    /**
     * The one documented exception: one organization per institution and country, named as the first row
     * naming it spells it. A row spelling it otherwise (HR0005 "Ministry of Administration" after HR0028's
     * "MINISTRY OF ADMINISTRATION"; CL0017 "Secretaria" for "Secretaría"; IE0014 "&" for "and") shows the
     * organization's spelling, which must then be the same name case, accents and "&" aside, written in
     * another row's cell; `leadInstitutionText` keeps this row's.
     */
    const otherSpelling: string[] = [];
    const notInCell: string[] = [];
    const allCells = ogp.map((r) => spaced(r[LEAD])).join('\n');
    for (const [id, cell] of cellOf) {
      for (const name of names(id)) {
        if (spaced(cell).includes(spaced(name))) continue;
        if (folded(spaced(cell)).includes(folded(name)) && allCells.includes(spaced(name)))
          otherSpelling.push(id);
        else notInCell.push(`${id}: ${name}`);
      }
    }
    expect(notInCell).toEqual([]);
    expect(otherSpelling).toEqual(expect.arrayContaining(['HR0005', 'CL0017', 'IE0014']));
  });

  test('several leads: every one is a lead, in cell order, the first being leadOrganization', () => {
    expect(names('FR0001')).toEqual([
      'Ministry of the Interior',
      'Ministry for Decentralization and the Civil Service',
    ]);
    expect(byId.get('FR0001')!.leadOrganization!.name).toBe('Ministry of the Interior');
    expect(names('CO0119')).toEqual(['Congreso de la República', 'Senado', 'Cámara de Representantes']);
    expect(byId.get('CO0119')!.leadOrganization!.name).toBe('Congreso de la República');
  });

  test('an institution before a colon is the lead; the units after it are its parts', () => {
    expect(names('MN0053')).toEqual(['Ministry of Finance']);
    expect(byId.get('MN0053')!.leadInstitutionText).toBe(
      'Ministry of Finance: Fiscal Policy and Planning Dept, Public Investment Dept, Treasury Office',
    );
  });

  test('a sentence is not a name: the institutions it names are', () => {
    expect(names('ES0090')).toEqual([
      'Council of the Government of the Balearic Islands',
      'Ministry of Public Administrations and Modernisation',
      'Directorate General of Transparency and Good Governance',
      'Parliament of the Balearic Islands',
    ]);
  });

  test('PH0055: three provincial governments lead; no supporter is split inside "Ph.D."', async () => {
    expect(names('PH0055')).toEqual([
      'Provincial Government of Bohol, Sangguniang Panlalawigan, Bohol Province',
      'Provincial Government of Surigao Del Norte through its Sangguniang Panlalawigan',
      'Provincial Government of Albay through its Sangguninang Panlalawigan',
    ]);
    const res: any = await systemOf(backend).queryGateway(/* GraphQL */ `
      query {
        commitment(id: "PH0055") {
          supportingOrganizations {
            name
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const supporters: string[] = res.data.commitment.supportingOrganizations.map((o: any) => o.name);
    expect(supporters).toContain('Dionisio Neil Balite,Ph.D. – Chief of Staff');
    expect(supporters).toContain('Bonifacio Quirog, Ph. D. – Sangguninang Panlalawigan Secretary');
    for (const s of supporters) expect(s).not.toMatch(/^(?:Ph|D)\b|\bPh$/);
  });

  test('the five leads the splitter used to miss are found', () => {
    expect(names('TN0008')).toEqual([
      'Secretariat of state in charge of governance and civil service (The general directorate for reforms and prospective studies)',
      'Ministry of Economy and Finance',
    ]);
    expect(names('SK0141')).toEqual([
      'Deputy Prime Minister of the Slovak Republic for Legislation and Strategic Planning',
      'Office of the Plenipotentiary of the Government of the Slovak Republic for the Development of Civil Society',
    ]);
    expect(names('SK0119')).toEqual([
      'Plenipotentiary of the Government for the Development of Civil Society',
      'Deputy Prime Minister and Minister of the Interior',
      'Slovak National Center for Human Rights',
    ]);
    expect(names('JO0065')).toEqual([
      'Prime Ministry/Directorate of Institutional Performance Development and Policies',
      'Legislation and Opinion Bureau',
      'Ministry of Digital Economy and Entrepreneurship',
    ]);
    expect(names('LV0040')).toEqual([
      'Procurement Monitoring Bureau (PMB)',
      'Central Finance and Contracts Agency (CFLA)',
    ]);
  });

  test('Organization.commitments(role: LEAD) and the leadOrganizationId filter count every lead, not only the first', async () => {
    const second = byId.get('FR0001')!.leadOrganizations[1].id;
    const res: any = await systemOf(backend).queryGateway(
      /* GraphQL */ `
        query ($id: ID!) {
          organization(id: $id) {
            commitments(role: LEAD, first: 100) {
              nodes {
                id
              }
            }
          }
          commitments(filter: { leadOrganizationId: $id }, first: 100) {
            nodes {
              id
            }
          }
        }
      `,
      { id: second },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.organization.commitments.nodes.map((n: any) => n.id)).toContain('FR0001');
    expect(res.data.commitments.nodes.map((n: any) => n.id)).toContain('FR0001');
  });
});
