import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { phrase, prng } from '@civic/formats/synthetic';

/** Years the generated package spreads its rows over (one budget each). */
const YEARS = 10;

/**
 * Writes a valid Fiscal Data Package of `rows` rows into `dir`/fdp-<rows>: a datapackage.json (organization,
 * date dimension, the Tunisian nomenclature as its economic classification with Arabic and French labels,
 * approved and executed expenditure in TND) and its CSV, streamed. Codes are unique within each year.
 * Reproducible for a seed. Returns the package folder and the CLI options it needs (none).
 */
export async function writeFiscalDataPackageFile(
  dir: string,
  rows: number,
  seed = 1,
): Promise<{ path: string; params: Record<string, string> }> {
  const folder = join(dir, `fdp-${rows}-${seed}`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'datapackage.json'), JSON.stringify(descriptor(rows, seed), null, 2));
  const out = createWriteStream(join(folder, 'budget.csv'), { encoding: 'utf8' });
  const r = prng(seed);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('year,titre,article,paragraphe,sous_paragraphe,label_ar,label_fr,approved,executed\n');
  const perYear = Math.ceil(rows / YEARS);
  for (let i = 0; i < rows; i++) {
    const year = 2013 + Math.floor(i / perYear);
    const n = i % perYear;
    const titre = n % 2 ? '2' : '1';
    const article = String(1000 + (Math.floor(n / 2) % 9000)).padStart(5, '0');
    const paragraphe = String(Math.floor(n / 18000) % 10000).padStart(4, '0');
    const sous = String(r.int(0, 999)).padStart(3, '0');
    const approved = r.int(0, 5_000_000);
    const approvedText = `${approved}.${String(r.int(0, 999)).padStart(3, '0')}`;
    const executed = r.chance(0.7)
      ? `${Math.floor((approved * r.int(0, 100)) / 100)}.${String(r.int(0, 999)).padStart(3, '0')}`
      : '';
    const fr = r.chance(0.5) ? `"${phrase(r, 'fr', 4).replace(/"/g, '""')}"` : '';
    await write(
      `${year},${titre},${article},${paragraphe},${sous},${phrase(r, 'ar', 4)},${fr},${approvedText},${executed}\n`,
    );
  }
  out.end();
  await once(out, 'finish');
  return { path: folder, params: {} };
}

function descriptor(rows: number, seed: number) {
  const field = (name: string, type = 'string') => ({ name, type });
  return {
    name: `generated-budget-${rows}-${seed}`,
    title: `Generated budget, ${rows} lines (seed ${seed})`,
    organization: 'tn-municipality-83999',
    language: 'ar',
    resources: [
      {
        name: 'budget',
        path: 'budget.csv',
        format: 'csv',
        schema: {
          fields: [
            field('year', 'year'),
            field('titre'),
            field('article'),
            field('paragraphe'),
            field('sous_paragraphe'),
            field('label_ar'),
            field('label_fr'),
            field('approved', 'number'),
            field('executed', 'number'),
          ],
        },
      },
    ],
    model: {
      measures: {
        approved: { source: 'approved', currency: 'TND', direction: 'expenditure', phase: 'approved' },
        executed: { source: 'executed', currency: 'TND', direction: 'expenditure', phase: 'executed' },
      },
      dimensions: {
        date: { dimensionType: 'datetime', attributes: { year: { source: 'year' } }, primaryKey: 'year' },
        'tn-municipal-budget-nomenclature': {
          dimensionType: 'classification',
          classificationType: 'economic',
          attributes: {
            titre: { source: 'titre' },
            article: { source: 'article', parent: 'titre' },
            paragraphe: { source: 'paragraphe', parent: 'article' },
            sous_paragraphe: { source: 'sous_paragraphe', parent: 'paragraphe' },
            label_ar: { source: 'label_ar', labelfor: 'sous_paragraphe' },
            label_fr: { source: 'label_fr', labelfor: 'sous_paragraphe' },
          },
          primaryKey: ['titre', 'article', 'paragraphe', 'sous_paragraphe'],
        },
      },
    },
  };
}
