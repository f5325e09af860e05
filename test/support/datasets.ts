import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { datasetPath } from '@civic/formats/sources';

/**
 * Reads the real data files directly, independently of the seed code, so tests compare what the API says
 * with what the source says.
 */
export function readCsv(file: string): Record<string, string>[] {
  return parse(readFileSync(datasetPath(file), 'utf8'), { columns: true, bom: true, skip_empty_lines: true });
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(datasetPath(file), 'utf8')) as T;
}

/** Sums integer millime cells exactly and formats the total as a TND decimal string. */
export function sumMillimes(cells: string[]): string {
  let total = 0n;
  for (const c of cells) if (c.trim() !== '') total += BigInt(c.trim());
  const s = total.toString().padStart(4, '0');
  return `${s.slice(0, -3)}.${s.slice(-3)}`;
}

/** Orders strings by Unicode code point, as the API orders text on both backends. */
export const byCodePoint = (a: string, b: string) =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** A Tunisian municipal budget row's code as the seed writes it: Titre.Article.Paragraphe.Sous_paragraphe. */
export const tnBudgetCode = (r: Record<string, string>) =>
  [r.Titre, r.Article, r.Paragraphe, r.Sous_paragraphe].map((p) => p.trim()).join('.');

/** The id the seed gives Bou Arada's line for a row of its files, in a year and direction. */
export const bouAradaLineId = (year: string, direction: 'EXP' | 'REV', r: Record<string, string>) =>
  `tn-34012-${year}-${direction}-${tnBudgetCode(r)}`;
