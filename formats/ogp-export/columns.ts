import type { CsvLayout } from '@civic/common/import/csv';
import { OGP_VALUE_COLUMNS } from './scales';

/*
 * The layout of the OGP commitments export: the columns the reader needs, the 171 columns of the file, the
 * policy-area flag columns, and the sizes of the database columns a row's text goes into.
 */

/** Columns the reader needs; a file without one of them is not the export this code knows. */
export const OGP_COLUMNS = {
  id: 'Commitment Unique Identifier',
  locality: 'Country/Locality',
  actionPlanNumber: 'Action Plan Number',
  code: 'Code',
  nationalOrLocal: 'National Or Local',
  yearOfSubmission: 'Year Of Submission',
  actionPlanEndYear: 'Action Plan End Year',
  theme: 'Theme',
  title: 'Commitment Title',
  shortTitle: 'Short Title',
  fullText: 'Full Text',
  startDate: 'Start Date',
  endDate: 'End Date',
  lead: 'Lead Institution',
  supporting: 'Supporting Institution(s)',
  specificity: 'Specificity',
  verifiable: 'Verifiable',
  potentialImpact: 'Potential Impact',
  completionMidterm: 'Completion (Progress Report)',
  completionEndOfTerm: 'Completion (End Of Term)',
  didItOpenGovernment: 'Did It Open Government (Overall)',
  url: 'URL',
  actionPlanId: 'Action Plan ID',
} as const;

/** First and last policy-area flag columns of the export; the flags are every column between them. */
export const POLICY_AREA_FIRST = 'Anti-Corruption and Integrity';
export const POLICY_AREA_LAST = 'Money in Politics';

/**
 * The export's 171 columns, in the order of ogp-commitments-export.csv. The importer knows every one of
 * them (most are IRM columns this code does not read), so a full export gives no "unknown column" warning,
 * and a column that is none of these is one OGP added since: ignored, with a warning.
 */
// prettier-ignore
export const OGP_EXPORT_HEADER: readonly string[] = [
  'Commitment Unique Identifier', 'Country/Locality', 'Action Plan Number', 'Commitment Number', 'Code',
  'Region', 'National Or Local', 'Commitment Dummy', 'Year Of Submission', 'Action Plan End Year',
  'Action Plan Duration (Years)', 'Theme', 'Commitment Title', 'Short Title', 'Full Text', 'Start Date',
  'End Date', 'Lead Institution', 'Supporting Institution(s)', 'Anti-Corruption and Integrity',
  'Anti-corruption Institutions', 'Anti-Corruption Strategies', 'Asset Disclosure', 'Audits',
  'Beneficial Ownership', 'Conflicts Of Interest', 'Elections', 'Political Finance', 'Lobbying',
  'Open Contracting', 'Public Procurement', 'Right To Information', 'Whistleblower Protections',
  'Civic Space and Enabling Environment', 'Freedom of Assembly', 'Freedom of Association',
  'Freedom of Expression', 'Democratizing Decision-Making', 'Digital Participation',
  'Mainstreaming Participation', 'Regulatory Governance', 'Social Accountability', 'Digital Governance',
  'Automated Decision-making', 'Data Stewardship and Privacy', 'Digital Inclusion',
  'Disinformation/Misinformation', 'Online Civic Space', 'Environment & Climate', 'Climate Finance',
  'Climate Mitigation and Adaptation', 'Environmental Regulation', 'International Environmental Agreements',
  'Fiscal Openness', 'Publication Of Budget/Fiscal Information',
  'Public Participation In Budget/Fiscal Policy', 'Oversight Of Budget/Fiscal Policies',
  'Stimulus and Economic Recovery', 'Tax', 'Debt', 'Inclusion', 'Gender', 'Gender-Based Violence',
  'Economic Inclusion', 'LGBTQIA+', 'People with Disabilities', 'Youth', 'Justice', 'Access to Justice',
  'Open Justice', 'Policing & Corrections', 'Judiciary', 'Open Parliaments', 'Public Service Delivery',
  'Citizenship & Immigration', 'Education', 'Health & Nutrition', 'Infrastructure & Transport',
  'Water & Sanitation', 'Capacity Building', 'Digital Transformation', 'Legislation', 'Regulation',
  'Legislative Oversight', 'Open Data', 'Public Participation', 'Aid', 'Energy', 'Extractive Industries',
  'Land and Spatial Planning', 'Media & Telecommunications', 'Science & Technology',
  'Security & Public Safety', 'Labor', 'Private Sector', 'Subnational', 'Human Rights',
  'Open Parliament Plan', 'Sustainable Development Goals', 'Open Data (Water/Sanitation)',
  'Open Data (Health)', 'Open Data (Education)', 'Participation in Lawmaking', 'Access to information',
  'Money in Politics', 'Report Publication Year (Progress Report)', 'Compound', 'Cluster', 'Specificity',
  '_Specificity', 'Verifiable', 'OGP Value Access To Information', 'OGP Value Civic Participation',
  'OGP Value Public Accountability', 'OGP Value Technology', '_Relevant', 'Potential Impact',
  '_Potential Impact', 'Completion (Progress Report)', '_CompletionProgress', 'Starred (2015 Only)',
  'Starred (Current Formula) Progress Report', 'Potential for Results', '_Potential for Results',
  'Cluster (AP Review)', 'Cluster Commitment ID(s)', 'Report Publication Year (End Of Term)',
  'Completion (End Of Term)', '_CompletionEndTerm', 'Change In Completion', '_ChangeCompletion',
  'Early Results', '_Early Results', 'Did It Open Government (Overall)', '_OpenGovernment',
  'Did It Open Government (Access To Information)', '_DIOGATI',
  'Did It Open Government (Civic Participation)', '_DIOGCP', 'Did It Open Government: Public Accountability',
  '_DIOGPA', 'Starred (Current Formula) End of Term', 'Carried Forward', 'Most Recently Assessed',
  'Star - Most Recently Assessed', 'IRM Assessed', 'Updated? (Website)', 'Active Commitment', 'Max star',
  'Ambition Assessed', 'Comp Assessed', 'DIOG Assessed', 'Midterm Only', 'Max Completion', 'Raw Completion',
  'High Completion', 'High Ambition', 'High DIOG', 'Ambitious and complete, or DIOG',
  'Ambitious but not complete', 'Complete but not ambitious', 'Not complete or ambitious', 'Not reviewed',
  'CHECKSUM', 'IRM-Based Score', 'Binding constraint', 'URL', 'Latest IRM Report', 'Subnational in NAPs',
  'Action Plan ID', 'id',
];

/**
 * The policy-area flag columns of the export this code knows (86), in the export's order. The seed reads
 * the columns between {@link POLICY_AREA_FIRST} and {@link POLICY_AREA_LAST} of the file it is given; the
 * importer, whose files may have their columns in any order, reads these by name.
 */
export const OGP_POLICY_AREAS: readonly string[] = OGP_EXPORT_HEADER.slice(
  OGP_EXPORT_HEADER.indexOf(POLICY_AREA_FIRST),
  OGP_EXPORT_HEADER.indexOf(POLICY_AREA_LAST) + 1,
);

/** MySQL TEXT holds 65,535 bytes: a longer description could not be stored whole. */
export const MAX_DESCRIPTION_BYTES = 65535;

/** The columns a row's text goes into whole, with the most characters their database columns hold. */
export const MAX_CHARACTERS: ReadonlyArray<readonly [string, number]> = [
  [OGP_COLUMNS.id, 64],
  [OGP_COLUMNS.actionPlanId, 64],
  [OGP_COLUMNS.locality, 255],
  [OGP_COLUMNS.theme, 255],
  [OGP_COLUMNS.startDate, 255],
  [OGP_COLUMNS.endDate, 255],
];
/** The columns stored in a TEXT column, which holds {@link MAX_DESCRIPTION_BYTES} bytes. */
export const TEXT_COLUMNS = [
  OGP_COLUMNS.title,
  OGP_COLUMNS.shortTitle,
  OGP_COLUMNS.fullText,
  OGP_COLUMNS.lead,
];
/** The provenance URL column holds 1,024 characters. */
export const MAX_URL_LENGTH = 1024;

/** The columns the reader needs: its named columns, the OGP value flags and the policy-area flags. */
const OGP_READ_COLUMNS: readonly string[] = [
  ...Object.values(OGP_COLUMNS),
  ...OGP_VALUE_COLUMNS.map(([c]) => c),
  ...OGP_POLICY_AREAS,
];

/**
 * The column layout of the export for the importer's CSV reader: every column of the export is known (so
 * only a column OGP added since is warned about), the ones the reader needs are required. Columns are found
 * by header, in any order. The columns read come last: "_Specificity" and "Specificity" compare alike
 * loosely, and the later column wins a loose match (an exact match always wins).
 */
export const OGP_IMPORT_LAYOUT: CsvLayout = {
  columns: [
    ...OGP_EXPORT_HEADER.filter((c) => !OGP_READ_COLUMNS.includes(c)).map((name) => ({ name })),
    ...OGP_READ_COLUMNS.map((name) => ({ name, required: true })),
  ],
};
