import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { phrase, prng } from '@civic/formats/synthetic';

/**
 * A valid Tunisian municipal code that belongs to no municipality (governorate 83, Tataouine, has five):
 * generated budgets never pass for a real municipality's. The import warns that it is not in the list.
 */
const CODE = '83999';

/**
 * Writes a valid monthly expenditure file of `rows` rows (one budget line each) into `dir`:
 * `Depence_mensuelle_2018_83999.csv`, the layout of the Bou Arada monthly file (Titre, Article, Paragraphe,
 * Sous_paragraphe, Arabic Imputation, execution at the end of January and February and the full-year budget,
 * integer millimes), streamed, with unique codes. Reproducible for a seed. Returns the file and the CLI
 * options it needs (none: the municipality and year are in the name).
 */
export async function writeTnMunicipalBudgetFile(
  dir: string,
  rows: number,
  seed = 1,
): Promise<{ path: string; params: Record<string, string> }> {
  const folder = join(dir, `tn-${rows}-${seed}`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `Depence_mensuelle_2018_${CODE}.csv`);
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const r = prng(seed);
  await write(
    'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,Budget_01_2018,Budget_02_2018,Budget_2018\n',
  );
  for (let i = 0; i < rows; i++) {
    const titre = i % 2 ? '2' : '1';
    const article = String(1000 + (Math.floor(i / 2) % 9000)).padStart(5, '0');
    const paragraphe = String(Math.floor(i / 18000) % 10000).padStart(4, '0');
    const sous = String(r.int(0, 999)).padStart(3, '0');
    const year = r.int(0, 500_000_000);
    const jan = Math.floor((year * r.int(0, 10)) / 100);
    const feb = jan + Math.floor((year * r.int(0, 10)) / 100);
    const label = r.chance(0.1) ? ` ${phrase(r, 'ar', 5)}` : phrase(r, 'ar', 5);
    await write(`${titre},${article},${paragraphe},${sous},${label},${jan},${feb},${year}\n`);
  }
  out.end();
  await once(out, 'finish');
  return { path, params: {} };
}
