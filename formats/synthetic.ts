import { fromSource, type WithProvenance } from '@civic/common/provenance';
import type { EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';

/**
 * Shared pieces of the synthetic dataset (`npm run generate -- --scale N`): a seeded PRNG so the same scale
 * and seed always give the same rows, the sizes at each scale, the ids that tie the subgraphs' rows
 * together, and word lists in French, English and Arabic so that search has real words to find.
 * Every synthetic record says so in its provenance.
 */

/** Rows per unit of scale: scale 1000 gives 50,000 organizations, 100,000 commitments, 1,000,000 budget lines. */
export function syntheticSizes(scale: number) {
  return {
    organizations: 50 * scale,
    actionPlans: 10 * scale,
    commitments: 100 * scale,
    budgets: 5 * scale,
    /** 200 lines per budget. */
    budgetLines: 1000 * scale,
  };
}

export const SYNTHETIC_DATASET = 'synthetic (npm run generate)';

/** The provenance of every synthetic record: flagged as synthetic, with the scale and seed that made it. */
export function syntheticSource(scale: number, seed: number, record: string): WithProvenance {
  return fromSource({ dataset: SYNTHETIC_DATASET }, `scale=${scale} seed=${seed} ${record}`);
}

export const syntheticOrganizationId = (i: number) => `syn-org-${String(i).padStart(7, '0')}`;
export const syntheticActionPlanId = (i: number) => `syn-ap-${String(i).padStart(6, '0')}`;
export const syntheticCommitmentId = (i: number) => `syn-c-${String(i).padStart(7, '0')}`;
export const syntheticBudgetId = (i: number) => `syn-b-${String(i).padStart(6, '0')}`;

/** mulberry32: a small, fast, seeded PRNG; good enough to spread synthetic values, not for anything secret. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
export type Prng = ReturnType<typeof prng>;

/** Words to build names, titles and labels from, in the three languages the real data has. */
export const WORDS = {
  fr: [
    'budget',
    'ouvert',
    'audit',
    'archives',
    'numérique',
    'participation',
    'citoyenne',
    'transparence',
    'marchés',
    'publics',
    'données',
    'santé',
    'éducation',
    'eau',
    'régionale',
    'municipale',
    'développement',
    'accès',
    'information',
    'intégrité',
  ],
  en: [
    'open',
    'budget',
    'audit',
    'digital',
    'archives',
    'citizen',
    'participation',
    'transparency',
    'procurement',
    'data',
    'health',
    'education',
    'water',
    'regional',
    'municipal',
    'development',
    'access',
    'information',
    'integrity',
    'justice',
  ],
  ar: [
    'الميزانية',
    'المفتوحة',
    'التدقيق',
    'الأرشيف',
    'الرقمي',
    'المشاركة',
    'المواطنة',
    'الشفافية',
    'الصفقات',
    'العمومية',
    'البيانات',
    'الصحة',
    'التعليم',
    'الماء',
    'الجهوية',
    'البلدية',
    'التنمية',
    'النفاذ',
    'المعلومة',
    'النزاهة',
  ],
} as const;

/** A phrase of `n` words in one language. */
export function phrase(r: Prng, lang: keyof typeof WORDS, n: number): string {
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(r.pick(WORDS[lang]));
  const s = words.join(' ');
  return lang === 'ar' ? s : s[0].toUpperCase() + s.slice(1);
}

/**
 * The names of synthetic organization `i`, derived from `i` and the seed alone, so the commitments generator
 * can label members and lead institutions with the same names the organizations generator gives them.
 */
export function syntheticOrganizationNames(i: number, seed: number) {
  const r = prng(Math.imul(seed, 0x9e3779b1) ^ i);
  return {
    fr: phrase(r, 'fr', 3),
    en: r.chance(0.8) ? phrase(r, 'en', 3) : null,
    ar: r.chance(0.7) ? phrase(r, 'ar', 3) : null,
  };
}

/** Plain multi-row INSERTs in batches, for fresh synthetic rows (the generator deletes old ones first). */
export async function insertAll<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntitySchema<T>,
  rows: T[],
  batchSize = 500,
): Promise<void> {
  for (let i = 0; i < rows.length; i += batchSize) {
    await manager
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(rows.slice(i, i + batchSize) as never)
      .execute();
  }
}
