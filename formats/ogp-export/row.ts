import { ENDS_ONLY, SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportContext } from '@civic/common/import/pipeline';
import type { SourceAdjustment } from '@civic/common/provenance';
import { institutionId } from '@civic/formats/keys';
import { isMissing, textOrNull, type Parsed } from './cells';
import {
  MAX_CHARACTERS,
  MAX_DESCRIPTION_BYTES,
  MAX_URL_LENGTH,
  OGP_COLUMNS,
  OGP_POLICY_AREAS,
  TEXT_COLUMNS,
} from './columns';
import { parseOgpDate } from './dates';
import { splitInstitutions } from './institutions';
import type { OgpCellIssue } from './issues';
import { resolveMember, type OgpMember } from './members';
import {
  OGP_VALUE_COLUMNS,
  parseCompletion,
  parseDidItOpenGovernment,
  parseFlag,
  parsePotentialImpact,
  parseSpecificity,
  parseVerifiable,
  type Completion,
  type DidItOpenGovernment,
  type OgpValueCode,
  type PotentialImpact,
  type Specificity,
} from './scales';

/*
 * One row of the OGP commitments export, read into a typed, normalized commitment: the one validator both
 * whole-file reading (csv.ts) and the importers share, so they refuse and warn about the same rows in the
 * same words.
 */

/** An institution named in a row, with its organization id. */
export interface InstitutionRef {
  id: string;
  name: string;
}

/** A date cell: the ISO value (null when unknown or unreadable) and the text exactly as the export wrote it. */
export interface OgpDate {
  iso: string | null;
  text: string | null;
}

/** One commitment of the export, typed and normalized. */
export interface OgpExportRow {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  /** The text cells stored otherwise than written (title, short title and theme trimmed), each verbatim. */
  adjustments: SourceAdjustment[];
  /** "Commitment Unique Identifier", e.g. "MO0012". */
  id: string;
  /** "Action Plan ID", e.g. "AP_MAR01". */
  actionPlanId: string;
  member: OgpMember;
  actionPlanNumber: number | null;
  yearOfSubmission: number | null;
  actionPlanEndYear: number | null;
  theme: string | null;
  title: string;
  shortTitle: string | null;
  /** "Full Text", as is. */
  description: string | null;
  startDate: OgpDate;
  endDate: OgpDate;
  /** "Lead Institution" exactly as the export wrote it (untrimmed); null for an empty cell or a missing-value marker. */
  leadInstitutionText: string | null;
  /** "Supporting Institution(s)" exactly as written; null for an empty cell or a missing-value marker. */
  supportingInstitutionsText: string | null;
  /** Every institution "Lead Institution" names, in cell order, deduplicated by id. */
  leads: InstitutionRef[];
  /** The first of {@link leads}: the commitment's lead organization. */
  lead: InstitutionRef | null;
  /** The names of "Supporting Institution(s)", in order, deduplicated, never one of the leads. */
  supporters: InstitutionRef[];
  /** Names of the policy-area flag columns set to 1. */
  policyAreas: string[];
  ogpValues: OgpValueCode[];
  specificity: Specificity | null;
  verifiable: boolean | null;
  potentialImpact: PotentialImpact | null;
  completionMidterm: Completion | null;
  completionEndOfTerm: Completion | null;
  didItOpenGovernment: DidItOpenGovernment | null;
  /** The row's own "URL": the commitment's page on opengovpartnership.org. */
  url: string | null;
}
/**
 * What {@link parseOgpExportRow} made of one row: the typed row and the caveats on its cells, or why the row
 * cannot be loaded (then `id` is its identifier when it has one).
 */
export type OgpRowOutcome =
  | { row: OgpExportRow; refusal: null; warnings: OgpCellIssue[] }
  | { row: null; id: string | null; refusal: OgpCellIssue; warnings: OgpCellIssue[] };

/** A row's "Commitment Unique Identifier", null when missing. */
export const ogpRowId = (get: (column: string) => string): string | null => textOrNull(get(OGP_COLUMNS.id));

type Cells = (column: string) => string;

/** Why a row cannot be stored whole: a required cell empty, or text longer than its column holds. */
function refusalOf(get: Cells): OgpCellIssue | null {
  for (const column of [OGP_COLUMNS.id, OGP_COLUMNS.actionPlanId, OGP_COLUMNS.title])
    if (!textOrNull(get(column))) return { column, value: get(column), message: `no "${column}"` };
  const description = textOrNull(get(OGP_COLUMNS.fullText)) === null ? null : get(OGP_COLUMNS.fullText);
  const bytes = description ? Buffer.byteLength(description, 'utf8') : 0;
  if (bytes > MAX_DESCRIPTION_BYTES)
    return {
      column: OGP_COLUMNS.fullText,
      value: description,
      message: `"${OGP_COLUMNS.fullText}" is ${bytes} bytes in UTF-8; the description column holds ${MAX_DESCRIPTION_BYTES}`,
    };
  for (const column of TEXT_COLUMNS) {
    const n = Buffer.byteLength(get(column).trim(), 'utf8');
    if (n > MAX_DESCRIPTION_BYTES)
      return {
        column,
        value: get(column),
        message: `"${column}" is ${n} bytes in UTF-8; the column holds ${MAX_DESCRIPTION_BYTES}`,
      };
  }
  for (const [column, max] of MAX_CHARACTERS) {
    const n = [...get(column).trim()].length;
    if (n > max)
      return {
        column,
        value: get(column),
        message: `"${column}" is ${n} characters long; the column holds ${max}`,
      };
  }
  return null;
}

/** Reads cells of one row, collecting a warning for each cell read as unknown. */
class CellReader {
  readonly warnings: OgpCellIssue[] = [];
  constructor(readonly get: Cells) {}

  warn(column: string, message: string): void {
    this.warnings.push({ column, value: this.get(column), message });
  }

  read<T>(column: string, parser: (raw: string) => Parsed<T>): T | null {
    const r = parser(this.get(column));
    if (r.warning) this.warn(column, r.warning);
    return r.value;
  }

  int(column: string): number | null {
    return this.read(column, (raw) => {
      if (isMissing(raw)) return { value: null, warning: null };
      return /^\s*\d+\s*$/.test(raw)
        ? { value: Number(raw), warning: null }
        : { value: null, warning: `unexpected value "${raw}"; expected a whole number` };
    });
  }

  date(column: string): OgpDate {
    const raw = this.get(column).trim();
    return { iso: this.read(column, parseOgpDate), text: raw === '' ? null : raw };
  }

  /** The row's own URL: null (with a warning) when it is not one or too long to cite. */
  url(): string | null {
    const raw = textOrNull(this.get(OGP_COLUMNS.url));
    const isUrl = !!raw && /^https?:\/\//.test(raw);
    if (raw && !isUrl) this.warn(OGP_COLUMNS.url, `not a URL: "${raw}"`);
    else if (raw && raw.length > MAX_URL_LENGTH)
      this.warn(
        OGP_COLUMNS.url,
        `longer than ${MAX_URL_LENGTH} characters; the dataset's URL is cited instead`,
      );
    return isUrl && raw.length <= MAX_URL_LENGTH ? raw : null;
  }
}

/**
 * The leads (every name of "Lead Institution", in cell order: "Ministry of the Interior; Ministry for
 * Decentralization and the Civil Service" has two, the first being the lead organization) and the supporters
 * (the names of "Supporting Institution(s)", deduplicated, never a lead). Ids are per country, so the same
 * ministry named by two commitments is one organization; each ref keeps this row's spelling.
 */
function readInstitutions(
  cells: CellReader,
  country: string | null,
): { leads: InstitutionRef[]; supporters: InstitutionRef[] } {
  const inst = (name: string): InstitutionRef => ({ id: institutionId(country, name), name });
  const leadSplit = splitInstitutions(cells.get(OGP_COLUMNS.lead));
  const supportSplit = splitInstitutions(cells.get(OGP_COLUMNS.supporting));
  for (const s of leadSplit.skipped)
    cells.warn(OGP_COLUMNS.lead, `part not read as an institution name: "${s}"`);
  for (const s of supportSplit.skipped)
    cells.warn(OGP_COLUMNS.supporting, `part not read as an institution name: "${s}"`);
  const taken = new Set<string>();
  const distinct = (names: string[]) => {
    const out: InstitutionRef[] = [];
    for (const name of names) {
      const ref = inst(name);
      if (taken.has(ref.id)) continue;
      taken.add(ref.id);
      out.push(ref);
    }
    return out;
  };
  const leads = distinct(leadSplit.names);
  return { leads, supporters: distinct(supportSplit.names) };
}

/** The policy areas and OGP values a row flags with "1". */
function readFlags(
  cells: CellReader,
  policyAreaColumns: readonly string[],
): { policyAreas: string[]; ogpValues: OgpValueCode[] } {
  const policyAreas = policyAreaColumns.filter((column) => cells.read(column, parseFlag));
  const ogpValues: OgpValueCode[] = [];
  for (const [column, value] of OGP_VALUE_COLUMNS) if (cells.read(column, parseFlag)) ogpValues.push(value);
  return { policyAreas, ogpValues };
}

/**
 * Reads one row of the export into a typed, normalized row: the one validator whole-file reading
 * (readOgpExport) and the `ogp-commitments` importer share, so both refuse and warn about the same rows in
 * the same words. `get` gives a cell by column name ('' when absent); `policyAreaColumns` are the flag
 * columns to read.
 *
 * Refused (the row cannot be loaded): no "Commitment Unique Identifier", "Action Plan ID" or "Commitment
 * Title"; a member that cannot be told (no Code, a national Code that is no ISO 3166-1 alpha-3 country, an
 * unknown "National Or Local"); a value longer than its database column holds. Warned (the cell is read as
 * unknown, the row loaded): an unreadable date or whole number, an IRM value off its scale, a flag other than
 * 0/1, a URL that is not one, a local member's country not recognized, parts of institution cells that are not
 * names. Duplicate identifiers are the caller's to find (it sees the other rows).
 */
export function parseOgpExportRow(
  get: Cells,
  line: number,
  policyAreaColumns: readonly string[],
): OgpRowOutcome {
  const id = ogpRowId(get);
  const refusal = refusalOf(get);
  if (refusal) return { row: null, id, refusal, warnings: [] };
  const resolved = resolveMember(
    get(OGP_COLUMNS.nationalOrLocal),
    get(OGP_COLUMNS.code),
    get(OGP_COLUMNS.locality),
  );
  if (!resolved.member) {
    const column = resolved.problem?.startsWith('unknown "National Or Local"')
      ? OGP_COLUMNS.nationalOrLocal
      : OGP_COLUMNS.code;
    return {
      row: null,
      id,
      refusal: { column, value: get(column), message: resolved.problem ?? 'member unknown' },
      warnings: [],
    };
  }
  const member = resolved.member;
  const cells = new CellReader(get);
  for (const w of resolved.warnings) cells.warn(OGP_COLUMNS.code, w);
  const { leads, supporters } = readInstitutions(cells, member.country);
  const leadCell = get(OGP_COLUMNS.lead);
  const { policyAreas, ogpValues } = readFlags(cells, policyAreaColumns);
  const url = cells.url();
  // Titles and themes are stored without the spaces around them; a cell that had some keeps its text verbatim
  // in the record's provenance (Provenance.adjustments).
  const adjustments = new SourceAdjustments();
  const text = (column: string, field: string) =>
    isMissing(get(column)) ? null : adjustments.cleanText(get(column), column, field, ENDS_ONLY);
  const row: OgpExportRow = {
    line,
    adjustments: adjustments.list,
    id: id!,
    actionPlanId: textOrNull(get(OGP_COLUMNS.actionPlanId))!,
    member,
    actionPlanNumber: cells.int(OGP_COLUMNS.actionPlanNumber),
    yearOfSubmission: cells.int(OGP_COLUMNS.yearOfSubmission),
    actionPlanEndYear: cells.int(OGP_COLUMNS.actionPlanEndYear),
    theme: text(OGP_COLUMNS.theme, 'theme'),
    title: text(OGP_COLUMNS.title, 'title')!,
    shortTitle: text(OGP_COLUMNS.shortTitle, 'shortTitle'),
    description: textOrNull(get(OGP_COLUMNS.fullText)) === null ? null : get(OGP_COLUMNS.fullText),
    startDate: cells.date(OGP_COLUMNS.startDate),
    endDate: cells.date(OGP_COLUMNS.endDate),
    leadInstitutionText: isMissing(leadCell) ? null : leadCell,
    supportingInstitutionsText: isMissing(get(OGP_COLUMNS.supporting)) ? null : get(OGP_COLUMNS.supporting),
    leads,
    lead: leads[0] ?? null,
    supporters,
    policyAreas,
    ogpValues,
    specificity: cells.read(OGP_COLUMNS.specificity, parseSpecificity),
    verifiable: cells.read(OGP_COLUMNS.verifiable, parseVerifiable),
    potentialImpact: cells.read(OGP_COLUMNS.potentialImpact, parsePotentialImpact),
    completionMidterm: cells.read(OGP_COLUMNS.completionMidterm, parseCompletion),
    completionEndOfTerm: cells.read(OGP_COLUMNS.completionEndOfTerm, parseCompletion),
    didItOpenGovernment: cells.read(OGP_COLUMNS.didItOpenGovernment, parseDidItOpenGovernment),
    url,
  };
  return { row, refusal: null, warnings: cells.warnings };
}

/**
 * Validates one record of the export for an importer part, through {@link parseOgpExportRow}: a refused row is
 * refused through `ctx` with its line, column, value and reason, its warnings given to `ctx` (only those about
 * `warnAbout` columns when given). Both parts of the import call this on the same records, so they refuse the
 * same rows in the same words (the pipeline reports each issue once).
 */
export function validateOgpRecord(
  line: number,
  values: Readonly<Record<string, string>>,
  ctx: Pick<ImportContext, 'refuse' | 'warn' | 'issue'>,
  warnAbout?: (column: string | null) => boolean,
): OgpExportRow | null {
  const out = parseOgpExportRow((c) => values[c] ?? '', line, OGP_POLICY_AREAS);
  if (!out.row) {
    ctx.refuse([ctx.issue(line, out.refusal.column, out.refusal.value, out.refusal.message)]);
    return null;
  }
  for (const w of out.warnings)
    if (!warnAbout || warnAbout(w.column)) ctx.warn(ctx.issue(line, w.column, w.value, w.message));
  return out.row;
}
