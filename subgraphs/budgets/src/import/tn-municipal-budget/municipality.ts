import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DATASETS_DIR, SOURCES, datasetPath } from '@civic/formats/sources';

/** The 24 governorates' codes, the first two digits of every official municipal code (Tunis 11 … Tataouine 83). */
const GOVERNORATES = new Set(
  '11 12 13 14 21 22 23 31 32 33 34 41 42 43 51 52 53 61 71 72 73 81 82 83'.split(' '),
);

/** Why a municipal code is not one, or null when it has the official form (5 digits, a governorate's prefix). */
export function municipalityCodeProblem(code: string): string | null {
  if (!/^\d{5}$/.test(code))
    return `"${code}" is not a Tunisian municipal code: 5 digits, e.g. 34012 (Bou Arada)`;
  if (!GOVERNORATES.has(code.slice(0, 2)))
    return `"${code}" is not a Tunisian municipal code: its first two digits (${code.slice(0, 2)}) are no governorate's`;
  return null;
}

let knownMunicipalities: Set<string> | null = null;

/**
 * Whether the code is in data/datasets/tunisia/municipalities.csv (the organizations the budgets belong
 * to): a budget of another municipality is loaded, with a warning that its organization is unknown.
 */
export function isKnownMunicipality(code: string): boolean {
  if (!knownMunicipalities) {
    try {
      const rows = parse(
        readFileSync(datasetPath(SOURCES.tunisiaMunicipalities.file, DATASETS_DIR), 'utf8'),
        {
          columns: true,
          bom: true,
        },
      ) as { municipal_id: string }[];
      knownMunicipalities = new Set(rows.map((r) => r.municipal_id.trim()));
    } catch {
      knownMunicipalities = new Set();
    }
  }
  return knownMunicipalities.has(code);
}

/** The dataset a budget record cites. */
export interface BudgetSource {
  dataset: string;
  url: string | null;
  license: string | null;
}

/** The dataset a municipality's budget records cite: Bou Arada's (34012) is the bundled one's. */
export function sourceOf(code: string): BudgetSource {
  if (code === '34012') return SOURCES.tunisiaBudget;
  return { dataset: `Tunisian municipal budget, municipality ${code}`, url: null, license: null };
}
