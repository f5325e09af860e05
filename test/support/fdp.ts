import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { MODULES, freshStorage, type Backend } from './system';

/*
 * What the Fiscal Data Package tests read on both sides, independently of the importer: a CSV file's records
 * with their lines (csv-parse on each record), and what the budgets subgraph's tables hold of a package.
 */

/** A row of a CSV file: its cells by header. */
export type CsvRow = Record<string, string>;

/** One record of a CSV file, with the line it starts on (1 is the header). */
export interface CsvRecord {
  line: number;
  row: CsvRow;
}

/**
 * The records of a CSV text (a BOM dropped), each with the line it starts on: the text split where a newline
 * is outside quotes, each record parsed with csv-parse. Blank records and records of empty cells are no rows.
 * The delimiter is the given one, else `;` when the header has more of them than of `,`.
 */
export function csvRecords(path: string, delimiter?: string): CsvRecord[] {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const records: { line: number; text: string }[] = [];
  let [start, line, startLine, quoted] = [0, 1, 1, false];
  for (let i = 0; i <= text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (i === text.length || (text[i] === '\n' && !quoted)) {
      const t = text.slice(start, i).replace(/\r$/, '');
      if (t !== '') records.push({ line: startLine, text: t });
      start = i + 1;
      startLine = line + 1;
    }
    if (text[i] === '\n') line += 1;
  }
  const first = records[0].text;
  const sep = delimiter ?? (first.split(';').length > first.split(',').length ? ';' : ',');
  const cells = (t: string) => (parse(t, { delimiter: sep, relax_quotes: false }) as string[][])[0];
  const header = cells(first);
  const out: CsvRecord[] = [];
  for (const rec of records.slice(1)) {
    const values = cells(rec.text);
    if (values.every((v) => v.trim() === '')) continue;
    out.push({ line: rec.line, row: Object.fromEntries(header.map((h, i) => [h, values[i] ?? ''])) });
  }
  return out;
}

/** What the database holds of a package's budgets: lines, dimension rows, totals per measure column and budget. */
export async function storedFacts(ds: DataSource, slug: string) {
  const like = `fdp-${slug}-%`;
  const [{ n: lines }] = await ds.query('SELECT COUNT(*) AS n FROM budget_lines WHERE budget_id LIKE ?', [
    like,
  ]);
  const [{ n: dims }] = await ds.query(
    'SELECT COUNT(*) AS n FROM budget_line_dimensions d JOIN budget_lines l ON l.id = d.line_id WHERE l.budget_id LIKE ?',
    [like],
  );
  const sums: { c: string; b: string; s: string }[] = await ds.query(
    `SELECT a.source_column AS c, l.budget_id AS b, CAST(SUM(a.amount_minor) AS CHAR) AS s
       FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.budget_id LIKE ?
      GROUP BY a.source_column, l.budget_id`,
    [like],
  );
  return {
    lines: Number(lines),
    dims: Number(dims),
    totals: Object.fromEntries(sums.map((r) => [`${r.c} ${r.b}`, String(r.s)])),
  };
}

/** A code of the dictionary, with its labels. */
export async function storedCode(ds: DataSource, scheme: string, c: string) {
  const [row] = await ds.query(
    `SELECT type, depth, parent_code AS parent, label_ar AS ar, label_fr AS fr, label_en AS en, label_es AS es, label
       FROM budget_codes WHERE scheme = ? AND code = ?`,
    [scheme, c],
  );
  return row ? { ...row, depth: Number(row.depth) } : row;
}

/** A fresh, migrated and empty budgets database on a backend, and how to drop it. */
export async function emptyBudgetsDb(backend: Backend) {
  const { storage, drop } = freshStorage(backend);
  const ds = await prepareSubgraph(MODULES.budgets, storage.budgets, { seed: 'never' });
  return {
    ds,
    close: async () => {
      await ds.destroy();
      await drop();
    },
  };
}
