import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { phrase, prng } from '@civic/formats/synthetic';

const KINDS = ['CIVIL_SOCIETY', 'NGO', 'government', 'ACADEMIC', 'private', 'INTERNATIONAL', 'OTHER'];
const COUNTRIES = ['MA', 'TN', 'Maroc', 'Tunisia', 'SEN', 'JO', 'FR', 'Kenya'];
const CLASSIFICATIONS = ['association', 'ministry', 'municipality', 'agency', 'university', 'foundation', ''];

/** A CSV cell: quoted when it holds a comma, a quote or a new line. */
const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * Writes a valid organizations CSV of `rows` rows into `dir`, in the layout of the gateway's export of
 * organizations (dotted columns, identifiers as "; "-joined lists): unique ids `bench-org-0000001`..., French
 * and (mostly) Arabic names, kinds and countries as people write them (synonyms, names, alpha-3), a parent
 * earlier in the file for a third of the rows, one or two identifiers, OGP membership for a few. Streamed;
 * reproducible for a seed. Returns the file and the CLI options it needs (the dataset).
 */
export async function writeOrganizationsFile(
  dir: string,
  rows: number,
  seed = 1,
): Promise<{ path: string; params: Record<string, string> }> {
  const folder = join(dir, `organizations-${rows}-${seed}`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, 'organizations.csv');
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const r = prng(seed);
  const id = (i: number) => `bench-org-${String(i).padStart(7, '0')}`;
  await write(
    'id,names.ar,names.fr,names.en,names.es,name,kind,classification,country,parent.id,identifiers.scheme,identifiers.value,ogpMembership.type,ogpMembership.joined,source.dataset\n',
  );
  for (let i = 1; i <= rows; i++) {
    const fr = `${phrase(r, 'fr', 3)} ${i}`;
    const ar = r.chance(0.8) ? `${phrase(r, 'ar', 3)} ${i}` : '';
    const en = r.chance(0.3) ? `${phrase(r, 'en', 3)} ${i}` : '';
    const parent = i > 10 && r.chance(0.33) ? id(r.int(1, i - 1)) : '';
    const two = r.chance(0.3);
    const schemes = two ? 'bench-registry; bench-tax' : 'bench-registry';
    const values = two ? `R${i}; T-${r.int(100000, 999999)}` : `R${i}`;
    const member = r.chance(0.02);
    const cells = [
      id(i),
      ar,
      fr,
      en,
      '',
      fr,
      r.pick(KINDS),
      r.pick(CLASSIFICATIONS),
      r.pick(COUNTRIES),
      parent,
      schemes,
      values,
      member ? r.pick(['NATIONAL', 'local']) : '',
      member ? `${r.int(2011, 2024)}-0${r.int(1, 9)}` : '',
      'ignored on import',
    ];
    await write(`${cells.map(cell).join(',')}\n`);
  }
  out.end();
  await once(out, 'finish');
  return { path, params: { dataset: `bench organizations ${seed}` } };
}
