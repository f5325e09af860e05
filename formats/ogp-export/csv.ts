import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { readCsv } from '@civic/common/import/csv';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { OGP_COLUMNS, OGP_IMPORT_LAYOUT, POLICY_AREA_FIRST, POLICY_AREA_LAST } from './columns';
import type { OgpIdentifiers } from './identifiers';
import type { Refusal, RowWarning } from './issues';
import { ogpRowId, parseOgpExportRow, type OgpExportRow } from './row';
import { OGP_VALUE_COLUMNS } from './scales';

/*
 * The two ways the OGP commitments export is read: whole, into typed rows (for tests, benchmarks and tools
 * that look at the file as a whole; the bundled file by default), and streamed record by record for an importer part.
 */

/** What {@link readOgpExport} read: the rows kept, the rows refused with why, and caveats on kept rows. */
export interface OgpExport {
  rows: OgpExportRow[];
  refused: Refusal[];
  warnings: RowWarning[];
  /** The policy-area columns of the header, in order. */
  policyAreaColumns: string[];
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/** The header's columns by name, checked to be the export's: throws naming the file and the column missing. */
function exportHeader(
  path: string,
  header: readonly string[],
): { col: Map<string, number>; policyAreaColumns: string[] } {
  const col = new Map<string, number>();
  header.forEach((h, i) => {
    if (!col.has(h)) col.set(h, i);
  });
  for (const name of Object.values(OGP_COLUMNS)) {
    if (!col.has(name)) throw new Error(`${path}: no column "${name}"; is this the OGP commitments export?`);
  }
  for (const [name] of OGP_VALUE_COLUMNS) {
    if (!col.has(name)) throw new Error(`${path}: no column "${name}"`);
  }
  const first = col.get(POLICY_AREA_FIRST);
  const last = col.get(POLICY_AREA_LAST);
  if (first === undefined || last === undefined || last < first) {
    throw new Error(
      `${path}: policy-area columns "${POLICY_AREA_FIRST}".."${POLICY_AREA_LAST}" not found in order`,
    );
  }
  return { col, policyAreaColumns: header.slice(first, last + 1) };
}

/**
 * Reads the OGP commitments export (by column name, never by position) into typed rows: each row through
 * {@link parseOgpExportRow} (refused rows are reported with the reason, unreadable cells become null with a
 * warning naming the row, the column and the value), plus rows whose field count differs from the header's
 * and duplicate identifiers, refused. Nothing is dropped silently.
 */
export function readOgpExport(path: string = datasetPath(SOURCES.ogpCommitments.file)): OgpExport {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const records = parse(text, {
    bom: true,
    relax_column_count: true,
    info: true,
    skip_empty_lines: true,
  }) as unknown as ParsedRecord[];
  if (!records.length) throw new Error(`${path}: empty file, expected the OGP commitments export header`);
  const header = records[0].record.map((h) => h.trim());
  const { col, policyAreaColumns } = exportHeader(path, header);
  const out: OgpExport = { rows: [], refused: [], warnings: [], policyAreaColumns };
  const seenIds = new Map<string, number>();
  let previousEnd = records[0].info.lines;

  for (const { record, info } of records.slice(1)) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    const get = (name: string) => {
      const i = col.get(name);
      return i === undefined ? '' : (record[i] ?? '');
    };
    const id = ogpRowId(get);
    if (record.length !== header.length) {
      out.refused.push({
        record: id ?? `line ${line}`,
        reason: `${record.length} fields, the header has ${header.length}`,
      });
      continue;
    }
    if (id) {
      if (seenIds.has(id)) {
        out.refused.push({
          record: `line ${line}`,
          reason: `duplicate "${OGP_COLUMNS.id}" ${id} (first on line ${seenIds.get(id)})`,
        });
        continue;
      }
      seenIds.set(id, line);
    }
    const row = parseOgpExportRow(get, line, policyAreaColumns);
    if (!row.row) {
      out.refused.push({ record: row.id ?? `line ${line}`, reason: row.refusal.message });
      continue;
    }
    for (const w of row.warnings)
      out.warnings.push({ record: id!, column: w.column ?? undefined, message: `${w.column}: ${w.message}` });
    out.rows.push(row.row);
  }
  return out;
}

/**
 * Streams the export's records (line and cells by column name) for an importer part; a record the CSV reader
 * refuses (broken quoting, not UTF-8...) is refused through `ctx` and counted in `ids` as unidentified.
 */
export async function* readOgpExportRecords(
  ctx: ImportContext,
  ids?: OgpIdentifiers,
): AsyncGenerator<SourceRow<Record<string, string>>> {
  const sink: ImportContext = {
    ...ctx,
    refuse: (issues) => {
      if (ids) ids.unidentified += 1;
      ctx.refuse(issues);
    },
  };
  for await (const r of readCsv(ctx.path, ctx.file, ctx.facts, OGP_IMPORT_LAYOUT, sink))
    yield { line: r.line, data: r.values };
}
