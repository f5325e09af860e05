import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { tunisiaMunicipalityId } from '../../../../common/src/keys';
import { fromSource } from '../../../../common/src/provenance';
import { emptyReport, type SeedReport } from '../../../../common/src/seed';
import { DATASETS_DIR, SOURCES, datasetPath, type DatasetSource } from '../../../../common/src/sources';
import type { BudgetAmount, BudgetDirection, BudgetLine, BudgetPhase } from '../entities/Budget';
import type { BudgetsSeed } from './types';

/**
 * Builder for the municipal budget files published by Onshor's ODMunicipalityTools (one folder, files
 * suffixed with the municipality's official code). What the Bou Arada (34012) files hold, and what is loaded:
 *
 * - `depense_per_year_<code>.csv`, `recette_per_year_<code>.csv`: every line (Titre, Article, Paragraphe,
 *   Sous_paragraphe, Imputation) with one column per year. These are the APPROVED amounts. Every line is listed
 *   for every year, so the line exists in every year's budget; an empty cell means it had no amount that year
 *   (no amount row), while "0" is a real zero.
 * - `Depence_mensuelle_<year>_<code>.csv`, `Recette_mensuelle_<year>_<code>.csv`: `Budget_01_2018` and
 *   `Budget_02_2018` are the cumulative execution at the end of January and February (EXECUTED, as of the
 *   month's last day); `Budget_2018` is the full-year budget. For 34012 that figure equals the per-year 2018
 *   amount on every line, so it is the same APPROVED figure, not an adjusted one: it is cross-checked, and only
 *   a disagreement (a warning, the per-year figure kept) or a line the per-year file lacks adds anything.
 *   Its total (1,973,349,268 millimes) exceeds the per-year total (1,437,803,283) only because of rows
 *   repeated verbatim (2.06610.0004.000 twice, 2.10950.0001.000 nine times: +583,597,485) less the one line it
 *   omits (1.02201.0080.020, 48,051,500). Repeated rows are merged with a warning, never counted twice; rows
 *   sharing a code but differing in any cell are refused, since nothing says which is right. The revenue file's
 *   January and February columns are empty on every row: there is no revenue execution figure.
 * - `Depence_<year>_<code>.csv`: the monthly expenditure file again with `Budget_01_2018` and `Budget_02_2018`
 *   swapped in column order (and in values, so by header name the rows are identical). Compared by header name;
 *   when identical it is not loaded a second time (a warning says so); otherwise it is loaded like the monthly
 *   file and every disagreement is reported.
 * - `depense_simple_<code>.csv`: despite its name, the per-year expenditure AND revenue lines in long format
 *   (Year, Budget): 98 expenditure and 43 revenue lines, hence 141 distinct codes, times 6 years = 846 rows,
 *   identical cell for cell to the two per-year files. It tells revenue from expenditure only by the shape of
 *   the code (Paragraphe.Sous_paragraphe 4+3 digits for expenditure, 2+2 for revenue). Loading it as well
 *   would double count: it is cross-checked, and only what the per-year files lack would be loaded from it.
 *
 * Columns are read by header name (the order differs between files). Codes keep their leading zeros.
 * Imputation labels are kept as written, except for the spaces some have at either end (spreadsheet debris,
 * unrelated to the line's level, which the code already gives). Amounts are integer millimes, parsed as
 * strings into BigInt: no float ever touches them.
 */

/** The columns whose values, joined by dots, are a line's code (Titre.Article.Paragraphe.Sous_paragraphe). */
export const KEY_COLUMNS = ['Titre', 'Article', 'Paragraphe', 'Sous_paragraphe'] as const;
/** The line's label (Arabic). */
export const LABEL_COLUMN = 'Imputation';
export const CLASSIFICATION = 'tn-municipal-budget-nomenclature';
export const CURRENCY = 'TND';
export const DIRECTION_CODE: Record<BudgetDirection, string> = { EXPENDITURE: 'EXP', REVENUE: 'REV' };

/** The budget of a municipality for a year: `tn-34012-2018`. */
export const tnBudgetId = (municipalityCode: string, year: number) => `tn-${municipalityCode}-${year}`;

/** A line of that budget: `tn-34012-2018-EXP-1.01100.0001.000`. */
export const tnLineId = (municipalityCode: string, year: number, direction: BudgetDirection, code: string) =>
  `${tnBudgetId(municipalityCode, year)}-${DIRECTION_CODE[direction]}-${code}`;

type FileKind =
  | { kind: 'perYear'; direction: BudgetDirection }
  | { kind: 'monthly'; direction: BudgetDirection; year: number; alternate: boolean }
  | { kind: 'simple' };

/** What a budget file's name says: its layout, direction (not for the long format), year and municipality. */
export type BudgetFileName = FileKind & { code: string };

/**
 * What a file holds, from its name: `depense|depence|recette` + `per_year | simple | mensuelle_<year> |
 * <year>` + `_<code>.csv`, any case. `Depence_2018` (no "mensuelle") is the alternate monthly layout.
 * Null for a name that is none of these.
 */
export function parseBudgetFileName(name: string): BudgetFileName | null {
  const m = /^(depense|depence|recette)_(?:(per_year)|(simple)|mensuelle_(\d{4})|(\d{4}))_(\d+)\.csv$/i.exec(
    name,
  );
  if (!m) return null;
  const code = m[6];
  const direction: BudgetDirection = m[1].toLowerCase() === 'recette' ? 'REVENUE' : 'EXPENDITURE';
  if (m[2]) return { kind: 'perYear', direction, code };
  if (m[3]) return { kind: 'simple', code };
  return { kind: 'monthly', direction, year: Number(m[4] ?? m[5]), alternate: !m[4], code };
}

function classifyFile(name: string, code: string): FileKind | null {
  const parsed = parseBudgetFileName(name);
  return parsed && parsed.code === code ? parsed : null;
}

interface CsvRow {
  /** Cells by header name. */
  cells: Record<string, string>;
  /** 1-based line in the file (the header is line 1). */
  line: number;
}

interface CsvFile {
  name: string;
  header: string[];
  rows: CsvRow[];
}

/**
 * Reads a CSV file into rows keyed by header name. A row whose cell count differs from the header's is
 * refused: its cells cannot be matched to columns with any confidence.
 */
function readCsv(dir: string, name: string, report: SeedReport): CsvFile {
  // `info: true` wraps each record with its line; csv-parse's typings do not model that option.
  const parsed = parse(readFileSync(join(dir, name), 'utf8'), {
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  const header = (parsed[0]?.record ?? []).map((h) => h.trim());
  const rows: CsvRow[] = [];
  for (const { record, info } of parsed.slice(1)) {
    if (record.length !== header.length) {
      report.refused.push({
        record: `${name}:line ${info.lines}`,
        reason: `${record.length} cells where the header has ${header.length}`,
      });
      continue;
    }
    rows.push({ cells: Object.fromEntries(header.map((h, i) => [h, record[i]])), line: info.lines });
  }
  return { name, header, rows };
}

/** A parsed amount cell: null for an empty cell (no amount), else the exact integer number of millimes. */
export type AmountCell = { ok: true; minor: string | null } | { ok: false; reason: string };

/**
 * Parses an amount in millimes. Empty means no amount; anything but an optionally signed integer is refused,
 * including "1.5": these files hold integer millimes, so a decimal point means a value in another unit or a
 * rounding artefact, and guessing which would invent money.
 */
export function parseMillimes(raw: string): AmountCell {
  const v = raw.trim();
  if (v === '') return { ok: true, minor: null };
  if (/^-?\d+$/.test(v)) return { ok: true, minor: BigInt(v).toString() };
  if (/^-?\d*[.,]\d+$/.test(v)) {
    return {
      ok: false,
      reason: `${JSON.stringify(raw)} has decimals: amounts in these files are integer millimes`,
    };
  }
  return { ok: false, reason: `${JSON.stringify(raw)} is not an integer number of millimes` };
}

/** The last day of a month, ISO 8601: execution figures stand at the end of the month they name. */
export function endOfMonth(year: number, month: number): string {
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/**
 * Builds the budgets of one Tunisian municipality from the files in `dir` whose names end in
 * `_<municipalityCode>.csv`: one Budget per fiscal year (`tn-<code>-<year>`, in TND), one BudgetLine per
 * line, year and direction (`tn-<code>-<year>-<EXP|REV>-<Titre.Article.Paragraphe.Sous_paragraphe>`), and
 * its APPROVED and EXECUTED amounts in millimes. See the module comment for what each file holds and which
 * is loaded. Throws when the folder has no per-year or monthly file for the code.
 *
 * @param dir the folder holding the files.
 * @param municipalityCode the official 5-digit municipal code, as in the file names (Bou Arada: "34012").
 * @param source the dataset every record cites; defaults to SOURCES.tunisiaBudget (the Bou Arada files).
 */
export function buildTunisianMunicipalBudget(
  dir: string,
  municipalityCode: string,
  source: DatasetSource = SOURCES.tunisiaBudget,
): BudgetsSeed {
  if (!/^\d{5}$/.test(municipalityCode)) {
    throw new Error(
      `municipalityCode must be the 5-digit official code, got ${JSON.stringify(municipalityCode)}`,
    );
  }
  const code = municipalityCode;
  const report = emptyReport(source.dataset);
  /** Budgets by fiscal year, with the files that gave them at least one line or amount (their source record). */
  const budgets = new Map<number, Set<string>>();
  const lines = new Map<string, BudgetLine & { fiscalYear: number }>();
  const amounts = new Map<string, BudgetAmount>();
  /** The direction(s) each code has in the per-year files, to read the long-format file, which does not say. */
  const directionsOfCode = new Map<string, Set<BudgetDirection>>();

  const kinds: [string, FileKind][] = [];
  for (const name of readdirSync(dir).sort()) {
    const kind = classifyFile(name, code);
    if (kind) kinds.push([name, kind]);
    else if (name.endsWith(`_${code}.csv`)) {
      report.warnings.push({ record: name, message: 'file name not recognised; not loaded' });
    }
  }
  if (!kinds.some(([, k]) => k.kind !== 'simple')) {
    throw new Error(`${dir} has no depense/recette per_year or mensuelle file for municipality ${code}`);
  }

  const cite = (year: number, file: string) => budgets.set(year, (budgets.get(year) ?? new Set()).add(file));

  /**
   * The line of a year, created on first sight (with its budget). A later file may fill a missing label; a
   * different label is reported and the first kept.
   */
  const ensureLine = (
    year: number,
    direction: BudgetDirection,
    row: KeyedRow,
    file: string,
    onCreate?: () => void,
  ) => {
    const id = `tn-${code}-${year}-${DIRECTION_CODE[direction]}-${row.code}`;
    const existing = lines.get(id);
    if (!existing) {
      onCreate?.();
      cite(year, file);
      lines.set(id, {
        id,
        budgetId: `tn-${code}-${year}`,
        fiscalYear: year,
        direction,
        code: row.code,
        labelAr: row.label,
        labelFr: null,
        labelEn: null,
        labelEs: null,
        classification: CLASSIFICATION,
        ...fromSource(source, `${file}:line ${row.line}`),
      });
    } else if (row.label && existing.labelAr !== row.label) {
      if (existing.labelAr) {
        report.warnings.push({
          record: `${file}:line ${row.line}`,
          message: `label ${JSON.stringify(row.label)} differs from ${JSON.stringify(existing.labelAr)} in ${existing.sourceRecord}; kept the latter`,
        });
      } else existing.labelAr = row.label;
    }
    return id;
  };

  /**
   * Records an amount unless the same line, phase and date already has one: an equal figure from a second
   * file is a confirmation; a different one is reported and the first (from the more authoritative file,
   * read first) is kept. An APPROVED amount that only a secondary file gives is loaded, and reported.
   */
  const putAmount = (
    lineId: string,
    phase: BudgetPhase,
    asOf: string,
    file: string,
    row: CsvRow,
    column: string,
  ) => {
    const record = `${file}:line ${row.line} column ${column}`;
    const parsed = parseMillimes(row.cells[column]);
    if (!parsed.ok) {
      report.refused.push({ record, reason: parsed.reason });
      return;
    }
    if (parsed.minor === null) return;
    const line = lines.get(lineId)!;
    const key = `${lineId}|${phase}|${asOf}`;
    const existing = amounts.get(key);
    if (!existing) {
      amounts.set(key, { lineId, phase, asOf, amountMinor: parsed.minor, sourceRecord: record });
      cite(line.fiscalYear, file);
      if (phase === 'APPROVED' && !line.sourceRecord?.startsWith(`${file}:`)) {
        report.warnings.push({
          record,
          message: `APPROVED ${parsed.minor} for ${line.code} ${line.fiscalYear} is not in ${line.sourceRecord}; loaded from this file`,
        });
      }
    } else if (existing.amountMinor !== parsed.minor) {
      report.warnings.push({
        record,
        message: `${phase} ${parsed.minor} for ${line.code} differs from ${existing.amountMinor} in ${existing.sourceRecord}; kept the latter`,
      });
    }
  };

  // 1. Per-year files: the lines of every year, and their APPROVED amounts.
  for (const [name, kind] of kinds) {
    if (kind.kind !== 'perYear') continue;
    const csv = readCsv(dir, name, report);
    const yearColumns = csv.header.filter((h) => /^\d{4}$/.test(h));
    warnUnusedColumns(csv, yearColumns, report);
    for (const row of keyedRows(csv, report, [])) {
      directionsOfCode.set(row.code, (directionsOfCode.get(row.code) ?? new Set()).add(kind.direction));
      for (const column of yearColumns) {
        const id = ensureLine(Number(column), kind.direction, row, name);
        putAmount(id, 'APPROVED', '', name, row, column);
      }
    }
  }

  // 2. Monthly files (the alternate layout after the main one): EXECUTED to each month's end, and the
  // full-year figure, cross-checked as APPROVED.
  const monthly = kinds.filter(([, k]) => k.kind === 'monthly').sort(([, a], [, b]) => alternateLast(a, b));
  const loadedMonthly = new Map<string, CsvFile>();
  for (const [name, kind] of monthly) {
    if (kind.kind !== 'monthly') continue;
    const csv = readCsv(dir, name, report);
    const twin = loadedMonthly.get(`${kind.direction}|${kind.year}`);
    if (twin && sameRowsByHeaderName(twin, csv)) {
      report.warnings.push({
        record: name,
        message: `same ${csv.rows.length} rows as ${twin.name} when read by column name (only the column order differs); not loaded twice`,
      });
      continue;
    }
    if (!twin) loadedMonthly.set(`${kind.direction}|${kind.year}`, csv);
    const columns = monthlyColumns(csv, kind.year, report);
    warnUnusedColumns(
      csv,
      columns.map((c) => c.column),
      report,
    );
    const listed = new Set<string>();
    for (const row of keyedRows(csv, report, [])) {
      const id = ensureLine(kind.year, kind.direction, row, name, () =>
        report.warnings.push({
          record: `${name}:line ${row.line}`,
          message: `${row.code} is not in the per-year file; line created from this file`,
        }),
      );
      listed.add(id);
      for (const c of columns) putAmount(id, c.phase, c.asOf, name, row, c.column);
    }
    for (const c of columns) {
      if (csv.rows.length && csv.rows.every((r) => r.cells[c.column].trim() === '')) {
        report.warnings.push({
          record: name,
          message: `column ${c.column} is empty on every row: no ${c.phase} amounts`,
        });
      }
    }
    // A line with an amount this year that the monthly file omits has no execution figure: saying so also
    // explains why the two files' totals differ.
    for (const line of lines.values()) {
      if (line.fiscalYear !== kind.year || line.direction !== kind.direction || listed.has(line.id)) continue;
      const approved = amounts.get(`${line.id}|APPROVED|`);
      if (approved && approved.amountMinor !== '0') {
        report.warnings.push({
          record: line.sourceRecord ?? line.id,
          message: `${line.code} (APPROVED ${approved.amountMinor}) is not in ${name}: no execution figures for ${kind.year}`,
        });
      }
    }
  }

  // 3. The long-format file: cross-checked against what is loaded; only what the other files lack is added.
  for (const [name, kind] of kinds) {
    if (kind.kind !== 'simple') continue;
    const csv = readCsv(dir, name, report);
    if (!csv.header.includes('Budget')) {
      report.refused.push({ record: name, reason: 'no Budget column; file not loaded' });
      continue;
    }
    const keyed = keyedRows(csv, report, ['Year']);
    if (!keyed.length) continue;
    warnUnusedColumns(csv, ['Year', 'Budget'], report);
    const before = { lines: lines.size, amounts: amounts.size, warnings: report.warnings.length };
    for (const row of keyed) {
      const record = `${name}:line ${row.line}`;
      const year = row.cells.Year.trim();
      if (!/^\d{4}$/.test(year)) {
        report.refused.push({ record, reason: `Year ${JSON.stringify(row.cells.Year)} is not a year` });
        continue;
      }
      const direction = directionOf(row.code, directionsOfCode);
      if (!direction) {
        report.refused.push({ record, reason: `cannot tell whether ${row.code} is expenditure or revenue` });
        continue;
      }
      const id = ensureLine(Number(year), direction, row, name, () =>
        report.warnings.push({
          record,
          message: `${row.code} ${year} is not in the per-year files; line created from this file`,
        }),
      );
      putAmount(id, 'APPROVED', '', name, row, 'Budget');
    }
    report.warnings.push({
      record: name,
      message:
        `long-format copy of the per-year files (${keyed.length} rows, expenditure and revenue), cross-checked: ` +
        `${lines.size - before.lines} lines and ${amounts.size - before.amounts} amounts added from it, ` +
        `${report.warnings.length - before.warnings} disagreements or additions reported`,
    });
  }

  const seed: BudgetsSeed = {
    budgets: [...budgets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([year, files]) => ({
        id: `tn-${code}-${year}`,
        organizationId: tunisiaMunicipalityId(code),
        fiscalYear: year,
        currency: CURRENCY,
        ...fromSource(source, [...files].join(', ')),
      })),
    lines: [...lines.values()].map(({ fiscalYear: _year, ...line }) => line),
    amounts: [...amounts.values()],
    report,
  };
  report.loaded = {
    budgets: seed.budgets.length,
    budget_lines: seed.lines.length,
    budget_amounts: seed.amounts.length,
  };
  return seed;
}

/**
 * Bou Arada's budgets 2013-2018 (municipal code 34012, governorate of Siliana) from data/datasets/tunisia.
 *
 * @param dir the datasets folder; defaults to data/datasets.
 */
export function buildBouAradaBudget(dir = DATASETS_DIR): BudgetsSeed {
  return buildTunisianMunicipalBudget(datasetPath(SOURCES.tunisiaBudget.file, dir), '34012');
}

/** Sort order putting the alternate monthly layout after the main one, so it is the one compared and skipped. */
const alternateLast = (a: FileKind, b: FileKind) =>
  Number(a.kind === 'monthly' && a.alternate) - Number(b.kind === 'monthly' && b.alternate);

interface KeyedRow extends CsvRow {
  /** Titre.Article.Paragraphe.Sous_paragraphe, as written (leading zeros kept). */
  code: string;
  /** Imputation with its end spaces trimmed; null when empty. */
  label: string | null;
}

/**
 * The rows of a budget file with their line code. A row with a missing or non-numeric code part is refused.
 * A row repeating an earlier one verbatim (same code, label and amounts) is merged into it with a warning; a
 * row sharing the code (and the `extraKey` columns, e.g. Year) but differing anywhere else is refused.
 */
function keyedRows(csv: CsvFile, report: SeedReport, extraKey: string[]): KeyedRow[] {
  const missing = [...KEY_COLUMNS, LABEL_COLUMN, ...extraKey].filter((h) => !csv.header.includes(h));
  if (missing.length) {
    report.refused.push({ record: csv.name, reason: `no ${missing.join(', ')} column; file not loaded` });
    return [];
  }
  const out: KeyedRow[] = [];
  const first = new Map<string, { line: number; content: string }>();
  for (const row of csv.rows) {
    const record = `${csv.name}:line ${row.line}`;
    const parsed = lineCode(row.cells);
    if (!parsed.ok) {
      report.refused.push({ record, reason: parsed.reason });
      continue;
    }
    const code = parsed.code;
    const key = [code, ...extraKey.map((k) => row.cells[k].trim())].join('|');
    const content = JSON.stringify(csv.header.map((h) => row.cells[h]));
    const seen = first.get(key);
    if (seen) {
      if (seen.content === content) {
        report.warnings.push({
          record,
          message: `repeats line ${seen.line} (${code}) cell for cell; merged, not counted twice`,
        });
      } else {
        report.refused.push({
          record,
          reason: `same code ${code} as line ${seen.line} but different label or amounts; cannot tell which is right`,
        });
      }
      continue;
    }
    first.set(key, { line: row.line, content });
    const label = row.cells[LABEL_COLUMN].trim() || null;
    if (!label) report.warnings.push({ record, message: `${code} has no Imputation label` });
    out.push({ ...row, code, label });
  }
  const trimmed = out.filter((r) => r.label !== null && r.label !== r.cells[LABEL_COLUMN]).length;
  if (trimmed) {
    report.warnings.push({
      record: csv.name,
      message: `${trimmed} Imputation labels had spaces at either end, trimmed (nothing else changed)`,
    });
  }
  return out;
}

/** The amount columns of a monthly file: `Budget_MM_YYYY` (EXECUTED at the month's end), `Budget_YYYY` (APPROVED). */
function monthlyColumns(
  csv: CsvFile,
  fileYear: number,
  report: SeedReport,
): { column: string; phase: BudgetPhase; asOf: string }[] {
  return monthlyAmountColumns(csv.header, fileYear, (column) =>
    report.warnings.push({
      record: csv.name,
      message: `column ${column} does not fit the file's year ${fileYear}; not loaded`,
    }),
  );
}

/** An amount column of a monthly file and what its figures are. */
export interface MonthlyColumn {
  column: string;
  phase: BudgetPhase;
  /** The month's last day for an execution figure, '' for the full-year budget. */
  asOf: string;
}

/**
 * The amount columns among a monthly file's headers: `Budget_MM_YYYY` is the cumulative execution at the end
 * of month MM (EXECUTED as of its last day), `Budget_YYYY` the full-year budget (APPROVED). A column of
 * another year (or month 13) is passed to `misfit` and left out.
 */
export function monthlyAmountColumns(
  header: readonly string[],
  fileYear: number,
  misfit: (column: string) => void,
): MonthlyColumn[] {
  const out: MonthlyColumn[] = [];
  for (const column of header) {
    const month = /^Budget_(\d{2})_(\d{4})$/.exec(column);
    const full = /^Budget_(\d{4})$/.exec(column);
    const year = Number(month?.[2] ?? full?.[1]);
    if (!month && !full) continue;
    if (year !== fileYear || (month && (Number(month[1]) < 1 || Number(month[1]) > 12))) {
      misfit(column);
      continue;
    }
    out.push(
      month
        ? { column, phase: 'EXECUTED', asOf: endOfMonth(year, Number(month[1])) }
        : { column, phase: 'APPROVED', asOf: '' },
    );
  }
  return out;
}

/** Reports columns that are neither the line key, the label nor a column this file's loader reads. */
function warnUnusedColumns(csv: CsvFile, used: string[], report: SeedReport): void {
  const known = new Set<string>([...KEY_COLUMNS, LABEL_COLUMN, ...used]);
  for (const h of csv.header) {
    if (!known.has(h))
      report.warnings.push({ record: csv.name, message: `column ${JSON.stringify(h)} not loaded` });
  }
}

/** Two files hold the same rows when, read by column name, their headers and rows match (rows in any order). */
function sameRowsByHeaderName(a: CsvFile, b: CsvFile): boolean {
  const columns = [...a.header].sort();
  if (JSON.stringify(columns) !== JSON.stringify([...b.header].sort())) return false;
  const rows = (f: CsvFile) => f.rows.map((r) => JSON.stringify(columns.map((c) => r.cells[c]))).sort();
  return JSON.stringify(rows(a)) === JSON.stringify(rows(b));
}

/**
 * The direction of a code in the long-format file, which does not say it: the per-year files' direction when
 * the code is in exactly one of them, else the shape of the nomenclature (see {@link directionOfCodeShape}).
 */
function directionOf(code: string, known: Map<string, Set<BudgetDirection>>): BudgetDirection | null {
  const dirs = known.get(code);
  if (dirs?.size === 1) return [...dirs][0];
  return directionOfCodeShape(code);
}

/**
 * The direction a line code's shape tells: expenditure Paragraphe and Sous_paragraphe have 4 and 3 digits,
 * revenue 2 and 2; null for any other shape.
 */
export function directionOfCodeShape(code: string): BudgetDirection | null {
  const [, , paragraphe = '', sous = ''] = code.split('.');
  if (paragraphe.length === 4 && sous.length === 3) return 'EXPENDITURE';
  if (paragraphe.length === 2 && sous.length === 2) return 'REVENUE';
  return null;
}

/** A row's line code, or why it has none. */
export type LineCode =
  { ok: true; code: string } | { ok: false; column: string; value: string; reason: string };

/**
 * The line code of a row (Titre.Article.Paragraphe.Sous_paragraphe as written, leading zeros kept, end spaces
 * trimmed), or the first code column that is empty or not digits (`Titre "" is not a numeric code part`).
 */
export function lineCode(cells: Readonly<Record<string, string | undefined>>): LineCode {
  const parts: string[] = [];
  for (const column of KEY_COLUMNS) {
    const raw = cells[column] ?? '';
    const v = raw.trim();
    if (!/^\d+$/.test(v))
      return {
        ok: false,
        column,
        value: raw,
        reason: `${column} ${JSON.stringify(raw)} is not a numeric code part`,
      };
    parts.push(v);
  }
  return { ok: true, code: parts.join('.') };
}
