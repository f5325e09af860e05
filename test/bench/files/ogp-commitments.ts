import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OGP_EXPORT_HEADER, OGP_POLICY_AREAS, OGP_VALUE_COLUMNS } from '@civic/formats/ogp-export';
import { phrase, prng, type Prng } from '@civic/formats/synthetic';

/** National members: ISO 3166-1 alpha-3 code, "Country/Locality", region, the language of their plans. */
const NATIONAL: readonly (readonly [string, string, string, 'fr' | 'ar' | 'en'])[] = [
  ['MAR', 'Morocco', 'Africa and the Middle East', 'fr'],
  ['TUN', 'Tunisia', 'Africa and the Middle East', 'fr'],
  ['JOR', 'Jordan', 'Africa and the Middle East', 'ar'],
  ['SEN', 'Senegal', 'Africa and the Middle East', 'fr'],
  ['CIV', "Côte d'Ivoire", 'Africa and the Middle East', 'fr'],
  ['BFA', 'Burkina Faso', 'Africa and the Middle East', 'fr'],
  ['FRA', 'France', 'Europe', 'fr'],
  ['CAN', 'Canada', 'Americas', 'en'],
  ['KEN', 'Kenya', 'Africa and the Middle East', 'en'],
  ['GBR', 'United Kingdom', 'Europe', 'en'],
];
/** Local members: OGP code, "Country/Locality". */
const LOCAL: readonly (readonly [string, string])[] = [
  ['NGKD', 'Kaduna State, Nigeria'],
  ['FRPA', 'Paris, France'],
  ['MAMK', 'Béni Mellal-Khénifra, Morocco'],
];
const MINISTRIES = {
  fr: [
    'Ministère de l’Économie et des Finances',
    'Ministère de la Justice',
    'Direction du Budget',
    'Instance nationale de probité',
    'Conseil économique, social et environnemental',
    'Agence de développement du digital',
    'Direction des Archives nationales',
    'Association Tunisienne de Transparence',
  ],
  ar: [
    'وزارة الاقتصاد والمالية',
    'وزارة العدل',
    'مديرية الميزانية',
    'الهيئة الوطنية للنزاهة',
    'المجلس الاقتصادي والاجتماعي',
    'وكالة التنمية الرقمية',
    'مؤسسة أرشيف المغرب',
    'جمعية الشفافية',
  ],
  en: [
    'Ministry of Finance',
    'Ministry of Justice',
    'Office of the Auditor General',
    'National Anti-Corruption Commission',
    'Open Data Agency',
    'Transparency International Chapter',
    'National Archives',
    'Parliamentary Budget Office',
  ],
} as const;
const SPECIFICITY = ['None', 'Low', 'Medium', 'High', 'ND'];
const IMPACT = ['None', 'Minor', 'Moderate', 'Transformative', 'NR'];
const COMPLETION = ['Not Started', 'Limited', 'Substantial', 'Complete', 'Withdrawn', 'Unclear', ''];
const DIOG = ['Did Not Change', 'Marginal', 'Major', 'Outstanding', ''];
/** Commitments per action plan. */
const PER_PLAN = 15;

/** A CSV cell: quoted when it holds a comma, a quote or a new line. */
const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const date = (r: Prng, year: number) => `${r.int(1, 12)}/${r.int(1, 28)}/${year}`;

/**
 * Writes a valid OGP commitments export of `rows` commitments into `dir`, with the real export's 171 columns
 * in its order: ten national members and three local ones, action plans of 15 commitments (AP_MAR01...),
 * titles and multi-line full texts in French, Arabic or English as the member's plans are written, lead and
 * supporting institutions from a few dozen per country (so institutions repeat across rows, as in the real
 * file), IRM assessments, policy-area and OGP-value flags, dates as the export writes them (M/D/YYYY). The
 * columns the importer does not read are left empty. Streamed; reproducible for a seed; no CLI option needed.
 */
export async function writeOgpCommitmentsFile(
  dir: string,
  rows: number,
  seed = 1,
): Promise<{ path: string; params: Record<string, string> }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `ogp-commitments-${rows}-${seed}.csv`);
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const r = prng(seed);
  await write(`${OGP_EXPORT_HEADER.map(cell).join(',')}\r\n`);
  const members = [
    ...NATIONAL.map(([code, name, region, lang]) => ({ code, name, region, lang, type: 'National' })),
    ...LOCAL.map(([code, name]) => ({
      code,
      name,
      region: 'Local',
      lang: 'en' as const,
      type: 'Legacy Local',
    })),
  ];
  for (let i = 0; i < rows; i++) {
    const plan = Math.floor(i / PER_PLAN);
    const m = members[plan % members.length];
    const number = Math.floor(plan / members.length) + 1;
    const start = 2012 + ((number * 2) % 12);
    const names = MINISTRIES[m.lang];
    const institution = () => `${r.pick(names)}${r.chance(0.5) ? ` ${r.int(1, 4)}` : ''}`;
    const supporters = Array.from({ length: r.int(0, 3) }, institution);
    const title = `${phrase(r, m.lang === 'en' ? 'en' : r.chance(0.5) ? 'ar' : 'fr', r.int(3, 8))} ${i + 1}`;
    const id = `${m.code}${String(i + 1).padStart(6, '0')}`;
    const values: Record<string, string> = {
      'Commitment Unique Identifier': id,
      'Country/Locality': m.name,
      'Action Plan Number': String(number),
      'Commitment Number': String((i % PER_PLAN) + 1),
      Code: m.code,
      Region: m.region,
      'National Or Local': m.type,
      'Year Of Submission': String(start),
      'Action Plan End Year': String(start + 2),
      Theme: r.chance(0.3) ? phrase(r, 'en', 2) : '',
      'Commitment Title': title,
      'Short Title': r.chance(0.5) ? phrase(r, 'fr', 3) : '',
      'Full Text': `${phrase(r, 'fr', 30)}.\n${phrase(r, 'ar', 30)}.\n\n${phrase(r, 'en', 20)}.`,
      'Start Date': date(r, start),
      'End Date': r.chance(0.9) ? date(r, start + 2) : 'June 2020',
      'Lead Institution': institution(),
      'Supporting Institution(s)': supporters.join('; '),
      Specificity: r.pick(SPECIFICITY),
      Verifiable: r.pick(['Yes', 'No', '']),
      'Potential Impact': r.pick(IMPACT),
      'Completion (Progress Report)': r.pick(COMPLETION),
      'Completion (End Of Term)': r.pick(COMPLETION),
      'Did It Open Government (Overall)': r.pick(DIOG),
      URL: `https://www.opengovpartnership.org/members/${m.name.toLowerCase().replace(/[^a-z]+/g, '-')}/commitments/${id.toLowerCase()}/`,
      'Action Plan ID': `AP_${m.code}${String(number).padStart(2, '0')}`,
    };
    for (const area of OGP_POLICY_AREAS) values[area] = r.chance(0.05) ? '1' : '0';
    for (const [column] of OGP_VALUE_COLUMNS) values[column] = r.chance(0.3) ? '1' : '0';
    await write(`${OGP_EXPORT_HEADER.map((h) => cell(values[h] ?? '')).join(',')}\r\n`);
  }
  out.end();
  await once(out, 'finish');
  return { path, params: {} };
}
