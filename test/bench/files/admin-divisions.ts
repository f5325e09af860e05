import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { phrase, prng } from '@civic/formats/synthetic';

/**
 * Writes a valid communes.json of `rows` communes into `dir`, in the layout of data/datasets/morocco
 * (`{ "communes": [ { id, name: { ar, en, es, fr }, region_division_id, type } ] }`, pretty-printed as the
 * real file is): ids COM_0001..., Arabic and French names, parents among the 64 real provinces and
 * prefectures (DIV_001...), rural or urbain. Streamed; reproducible for a seed. No CLI option needed: the
 * level comes from the "communes" key.
 */
export async function writeAdminDivisionsFile(
  dir: string,
  rows: number,
  seed = 1,
): Promise<{ path: string; params: Record<string, string> }> {
  const folder = join(dir, `admin-divisions-${rows}-${seed}`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, 'communes.json');
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const r = prng(seed);
  await write('{\n  "communes": [\n');
  for (let i = 1; i <= rows; i++) {
    const fr = `${phrase(r, 'fr', 2)} ${i}`;
    const record = {
      id: `COM_${String(i).padStart(4, '0')}`,
      name: { ar: `${phrase(r, 'ar', 2)} ${i}`, en: fr, es: fr, fr },
      region_division_id: `DIV_${String(r.int(1, 64)).padStart(3, '0')}`,
      type: r.chance(0.8) ? 'rural' : 'urbain',
    };
    const text = JSON.stringify(record, null, 2).replace(/\n/g, '\n    ');
    await write(`    ${text}${i < rows ? ',' : ''}\n`);
  }
  await write('  ]\n}\n');
  out.end();
  await once(out, 'finish');
  return { path, params: {} };
}
