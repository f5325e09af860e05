import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { datasetPath } from '../../common/src/sources';

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
