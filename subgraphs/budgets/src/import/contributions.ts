import { basename } from 'node:path';
import type { EntityManager } from 'typeorm';
import { chunk, placeholders } from '@civic/common/db';
import { quoteName, textType } from '@civic/common/dialect';
import type { WriteContext } from '@civic/common/import/pipeline';
import { insertRows } from '@civic/common/import/write';
import type { BudgetAmount } from '../entities/Budget';
import type { LineWrite } from './lines';

/*
 * Several files may describe one budget line: Bou Arada's 2018 lines are in the per-year file (their label,
 * the approved figure) and in the monthly file (the execution figures at the end of each month). A file that
 * complements others (a monthly execution file: LineWriterState.contributes) leaves a line another file stored
 * to that file and CONTRIBUTES to it: its figures go in the slots no other file holds, and over another file's
 * figure only where the two disagree (the later file wins, as any import does); the line record (label,
 * provenance, digest) stays as the other file wrote it, and the line is not missing from the contributing file.
 * So importing the files again finds every row unchanged, instead of the files taking the lines from each other
 * on every run (which rewrote 121 lines and 267 figures per seed). A line only the complementing file has is
 * its own, and a new version of it (same name, other content) updates it like any import.
 */

/** The file a stored row came from, by name only: a path typed another way is still the same file. */
const fileName = (file: string | null | undefined) => (file ? basename(file) : null);

/** The stored line ids (among `ids`) that another file wrote: this import only contributes figures to them. */
export async function linesOfOtherFiles(
  m: EntityManager,
  w: WriteContext,
  ids: readonly string[],
): Promise<Set<string>> {
  const own = fileName(w.ctx.file);
  const others = new Set<string>();
  for (const part of chunk(ids, 1000)) {
    const rows: { id: string; f: string | null }[] = await m.query(
      `SELECT id, source_file AS f FROM budget_lines WHERE id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows) if (fileName(r.f) !== own) others.add(String(r.id));
  }
  return others;
}

interface StoredFigure {
  amount: string;
  file: string | null;
  checksum: string | null;
  line: number | null;
  column: string | null;
}

const slotKey = (lineId: string, phase: string, asOf: string) => `${lineId}\u0000${phase}\u0000${asOf}`;

/** The figures stored for these lines, by line and slot, one statement per 500 lines. */
async function storedFigures(
  m: EntityManager,
  lineIds: readonly string[],
): Promise<Map<string, StoredFigure>> {
  const out = new Map<string, StoredFigure>();
  for (const part of chunk(lineIds, 500)) {
    const rows: {
      l: string;
      p: string;
      a: string;
      v: string | number;
      f: string | null;
      c: string | null;
      n: number | string | null;
      k: string | null;
    }[] = await m.query(
      `SELECT line_id AS l, phase AS p, as_of AS a, CAST(amount_minor AS ${textType(m)}) AS v, source_file AS f, ` +
        `source_checksum AS c, source_line AS n, source_column AS k ` +
        `FROM budget_amounts WHERE line_id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows)
      out.set(slotKey(String(r.l), r.p, r.a), {
        amount: String(r.v),
        file: r.f,
        checksum: r.c,
        line: r.n === null ? null : Number(r.n),
        column: r.k,
      });
  }
  return out;
}

/** True when a stored figure is this one, read from the same cell of the same file version. */
const sameFigure = (s: StoredFigure, a: BudgetAmount) =>
  s.amount === String(a.amountMinor) &&
  s.checksum === a.sourceChecksum &&
  s.line === a.sourceLine &&
  s.column === a.sourceColumn;

/**
 * Writes this file's figures under lines another file holds: a slot nobody holds gets the figure; a slot this
 * file holds is replaced when the figure or its cell changed; a slot another file holds is left to it when
 * both give the same amount (it keeps citing the first cell), replaced when they disagree. The line records
 * are not written (counted unchanged).
 */
export async function contributeFigures(
  m: EntityManager,
  w: WriteContext,
  lines: readonly LineWrite[],
  amountColumns: readonly string[],
  amountValues: (a: BudgetAmount) => unknown[],
): Promise<void> {
  if (!lines.length) return;
  const stored = await storedFigures(
    m,
    lines.map((l) => l.line.id),
  );
  const own = fileName(w.ctx.file);
  const insert: BudgetAmount[] = [];
  const replace: BudgetAmount[] = [];
  let unchanged = 0;
  for (const a of lines.flatMap((l) => l.amounts)) {
    const s = stored.get(slotKey(a.lineId, a.phase, a.asOf));
    if (!s) insert.push(a);
    else if (fileName(s.file) !== own) {
      if (s.amount !== String(a.amountMinor)) replace.push(a);
    } else if (sameFigure(s, a)) unchanged += 1;
    else replace.push(a);
  }
  const slot = `line_id = ? AND ${quoteName(m, 'phase')} = ? AND ${quoteName(m, 'as_of')} = ?`;
  for (const a of replace)
    await m.query(`DELETE FROM budget_amounts WHERE ${slot}`, [a.lineId, a.phase, a.asOf]);
  await insertRows(m, 'budget_amounts', amountColumns, [...insert, ...replace].map(amountValues));
  w.count('budget_lines', 'unchanged', lines.length);
  w.count('budget_amounts', 'inserted', insert.length);
  w.count('budget_amounts', 'updated', replace.length);
  w.count('budget_amounts', 'unchanged', unchanged);
}
