import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import { EntitySchema, Table, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { StorageConfig } from '@civic/common/config';
import { createDataSource, dropDatabase, openDataSource, schemaDrift } from '@civic/common/db';
import { col, setKeyCollation } from '@civic/common/migration-columns';
import { orderedConnection } from '@civic/common/ordering';
import type { Connection } from '@civic/common/pagination';
import {
  createSearchTables,
  dropSearchTables,
  highlight,
  indexDocuments,
  rebuildSearchIndex,
  relevanceOrder,
  removeDocuments,
  SEARCH_FTS_TABLE,
  SEARCH_TABLE,
  SearchDocumentEntity,
  searchQuery,
  searchableConnection,
  searchScores,
  sampleSearchStatistics,
  scopeSearchIndex,
  searchCount,
  settleSearchStatistics,
  unscopeSearchIndex,
  type SearchDocumentInput,
} from '@civic/common/search';
import { readCsv, readJson } from '../support/datasets';
import { BACKENDS, type Backend } from '../support/system';

// Real names and titles from the datasets: Moroccan regions and communes and Tunisian municipalities
// (places, in French, Arabic, English, Spanish), OGP commitments (title, short title, full text) and the
// Arabic labels of Bou Arada's budget lines.
type Names = Record<'ar' | 'fr' | 'en' | 'es', string | undefined>;
const regions = readJson<{ regions: { id: string; name: Names }[] }>('morocco/regions.json').regions;
const communes = readJson<{ communes: { id: string; name: Names }[] }>('morocco/communes.json').communes;
const municipalities = readCsv('tunisia/municipalities.csv');
const ogp = readCsv('ogp/ogp-commitments-export.csv');
const budgetLines = readCsv('tunisia/depense_per_year_34012.csv');

interface Place {
  id: string;
  nameFr: string | null;
  nameAr: string | null;
  nameEn: string | null;
  nameEs: string | null;
}

const PlaceEntity = new EntitySchema<Place>({
  name: 'Place',
  tableName: 'places',
  columns: {
    id: { type: 'varchar', length: 191, primary: true },
    nameFr: { type: 'varchar', length: 255, name: 'name_fr', nullable: true },
    nameAr: { type: 'varchar', length: 255, name: 'name_ar', nullable: true },
    nameEn: { type: 'varchar', length: 255, name: 'name_en', nullable: true },
    nameEs: { type: 'varchar', length: 255, name: 'name_es', nullable: true },
  },
});

class CreatePlaces1700000000000 implements MigrationInterface {
  name = 'CreatePlaces1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'places',
        columns: [
          col.key('id', 191),
          ...['fr', 'ar', 'en', 'es'].map((l) => col.varchar(`name_${l}`, 255, true)),
        ],
      }),
    );
    await setKeyCollation(q, [{ table: 'places', column: 'id', length: 191, nullable: false }], 'binary');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('places');
  }
}

/** What a subgraph's migration looks like: nothing but the two calls. */
class CreateSearch1700000000001 implements MigrationInterface {
  name = 'CreateSearch1700000000001';
  // As the subgraphs' Search and SearchStatistics migrations do.
  up = async (q: QueryRunner) => {
    await createSearchTables(q);
    await sampleSearchStatistics(q);
  };
  down = (q: QueryRunner) => dropSearchTables(q);
}

const places: Place[] = [
  ...regions.map((r) => ({ id: `ma-${r.id}`, ...names(r.name) })),
  ...communes.map((c) => ({ id: `ma-${c.id}`, ...names(c.name) })),
  ...municipalities.map((m) => ({
    id: `tn-${m.municipal_id}`,
    nameFr: m.name || null,
    nameAr: m.name_ar || null,
    nameEn: null,
    nameEs: null,
  })),
];

function names(n: Names): Omit<Place, 'id'> {
  return { nameFr: n.fr ?? null, nameAr: n.ar ?? null, nameEn: n.en ?? null, nameEs: n.es ?? null };
}

/** Every entity's original text by field, per entity type: what is indexed, and what the oracle reads. */
const corpus: Record<string, Map<string, Record<string, string | null>>> = {
  Place: new Map(
    places.map((p) => [p.id, { nameFr: p.nameFr, nameAr: p.nameAr, nameEn: p.nameEn, nameEs: p.nameEs }]),
  ),
  Commitment: new Map(
    ogp.map((r) => [
      r['Commitment Unique Identifier'],
      { title: r['Commitment Title'], shortTitle: r['Short Title'], description: r['Full Text'] },
    ]),
  ),
  BudgetLine: new Map(budgetLines.map((r, i) => [`bou-arada-${i + 1}`, { label: r.Imputation }])),
};

const documents: SearchDocumentInput[] = Object.entries(corpus).flatMap(([entityType, entities]) =>
  [...entities].flatMap(([entityId, fields]) =>
    Object.entries(fields).map(([field, text]) => ({ entityType, entityId, field, text })),
  ),
);

/**
 * The entities that must match, computed in the application from the original text: every term of the
 * query is a word (or, as a prefix, the start of a word) of one of the entity's fields.
 */
const wordsOf = new Map<string, string[]>();
function oracle(entityType: string, query: string): string[] {
  const asked = words(query);
  const terms = asked
    .filter((w, i) => asked.lastIndexOf(w) === i)
    .map((text, i, all) => ({ text, prefix: i === all.length - 1 }));
  expect(terms.length).toBeGreaterThan(0);
  const out: string[] = [];
  for (const [id, fields] of corpus[entityType]) {
    const key = `${entityType} ${id}`;
    let have = wordsOf.get(key);
    if (!have) wordsOf.set(key, (have = Object.values(fields).flatMap((t) => (t ? words(t) : []))));
    if (terms.every((t) => have.some((w) => (t.prefix ? w.startsWith(t.text) : w === t.text)))) out.push(id);
  }
  return out.sort();
}

/*
 * The oracle's own reading of a text into words, written from the documented rules (common/src/search/fold.ts)
 * and not with the engine's functions, so an engine that folded wrongly would disagree with it: letters and
 * digits only, lower case without accents or Arabic vowel marks, the usual Arabic letter variants as one,
 * the Arabic article taken off a word that keeps 3 letters, words of 3 to 84 characters, a few English
 * stopwords left out.
 */
const ORACLE_FOLD: Record<string, string> = {
  ٱ: 'ا',
  ى: 'ي',
  ی: 'ي',
  ة: 'ه',
  ە: 'ه',
  ک: 'ك',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};
const ORACLE_STOPWORDS = new Set(
  'a about an are as at be by com de en for from how i in is it la of on or that the this to und was what when where who will with www'.split(
    ' ',
  ),
);
function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\p{M}\p{Lm}\u0640]/gu, '')
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/./gsu, (c) => ORACLE_FOLD[c] ?? c)
    .split(/[^\p{L}\p{N}]+/u)
    .map((w) => {
      const article = ['وال', 'بال', 'كال', 'فال', 'ال', 'لل'].find(
        (a) => w.startsWith(a) && [...w].length - a.length >= 3,
      );
      return article ? w.slice(article.length) : w;
    })
    .filter((w) => [...w].length >= 3 && [...w].length <= 84 && !ORACLE_STOPWORDS.has(w));
}

const QUERIES: [string, string][] = [
  ['Place', 'Beni Mellal'],
  ['Place', 'beni mellal khenifra'],
  ['Place', 'بني ملال'],
  ['Place', 'بَنِي مَلَّال'],
  ['Place', 'Khénifra بني'],
  ['Place', 'El Kef'],
  ['Place', 'الكاف'],
  ['Place', 'الدار البيضاء'],
  ['Place', 'امزوفرن'],
  ['Place', 'sidi'],
  ['Place', 'Fès'],
  ['Commitment', 'audit'],
  ['Commitment', 'Audit Reports'],
  ['Commitment', 'open contracting'],
  ['Commitment', 'budget particip'],
  ['Commitment', 'Participacion ciudadana'],
  ['Commitment', 'transparencia'],
  ['Commitment', '2018 budget'],
  ['BudgetLine', 'الأجر'],
  ['BudgetLine', 'منحة'],
];

/** Ids found on each backend, per query: they must be the same on both. */
const found: Partial<Record<Backend, Map<string, string[]>>> = {};

async function scratch(backend: Backend): Promise<{ ds: DataSource; drop(): Promise<void> }> {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  let storage: StorageConfig;
  let cleanup: () => Promise<void>;
  if (backend === 'mysql') {
    const url = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
    storage = { type: 'mysql', url, database: `civic_test_${tag}_search` };
    const s = storage;
    cleanup = () => dropDatabase(s);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'civic-search-'));
    storage = { type: 'sqlite', path: join(dir, 'search.sqlite') };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const ds = await createDataSource({
    storage,
    entities: [PlaceEntity, SearchDocumentEntity],
    migrations: [CreatePlaces1700000000000, CreateSearch1700000000001],
  });
  await openDataSource(ds, storage);
  return {
    ds,
    drop: async () => {
      if (ds.isInitialized) await ds.destroy();
      await cleanup();
    },
  };
}

describe.each(BACKENDS)('the search engine on %s', (backend) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ ds, drop } = await scratch(backend));
    for (let i = 0; i < places.length; i += 500)
      await ds.getRepository(PlaceEntity).insert(places.slice(i, i + 500));
    await indexDocuments(ds.manager, documents);
    // As every bulk writer does, settle the statistics (they are persistent and not recalculated on their own);
    // the migration (sampleSearchStatistics, the product's) made the row estimate read every page of this table.
    await settleSearchStatistics(ds);
    if (backend === 'mysql') await firstSearchAnswers(ds);
  });
  afterAll(async () => {
    await drop?.();
  });

  const search = async (entityType: string, query: string) => {
    const scores = await searchScores(ds.manager, searchQuery(ds, entityType, query));
    return [...scores.keys()].sort();
  };

  /** The row estimate InnoDB keeps for the search table, which full-text relevance divides by. */
  const rowEstimate = async () => {
    const [r] = await ds.query(
      'SELECT n_rows AS n FROM mysql.innodb_table_stats WHERE database_name = DATABASE() AND table_name = ?',
      [SEARCH_TABLE],
    );
    return Number(r.n);
  };
  /** Sets the persistent estimate and makes InnoDB load it (a table is re-read from its stats when reopened). */
  const forceEstimate = async (n: number) => {
    await ds.query(
      'UPDATE mysql.innodb_table_stats SET n_rows = ? WHERE database_name = DATABASE() AND table_name = ?',
      [n, SEARCH_TABLE],
    );
    await ds.query(`RENAME TABLE ${SEARCH_TABLE} TO ${SEARCH_TABLE}_reload`);
    await ds.query(`RENAME TABLE ${SEARCH_TABLE}_reload TO ${SEARCH_TABLE}`);
  };

  (backend === 'mysql' ? test : test.skip)(
    'the settled row estimate is exact (the product samples every page of a small search table)',
    async () => {
      const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM ${SEARCH_TABLE}`);
      expect(await rowEstimate()).toBe(Number(n));
      const [create] = await ds.query(`SHOW CREATE TABLE ${SEARCH_TABLE}`);
      expect(create['Create Table']).toMatch(/STATS_SAMPLE_PAGES=4096/);
    },
  );

  (backend === 'mysql' ? test : test.skip)(
    'a row estimate of 0, 1 or below the documents holding a common word still finds them; settling restores it',
    async () => {
      // "sidi" begins the names of dozens of Moroccan communes.
      const before = await search('Place', 'sidi');
      const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM ${SEARCH_TABLE}`);
      expect(before.length).toBeGreaterThan(50);
      for (const low of [0, 1, before.length - 1]) {
        await forceEstimate(low);
        expect(await rowEstimate()).toBe(low);
        expect(await search('Place', 'sidi')).toEqual(before);
        expect(await search('Place', 'Beni Mellal')).toContain('ma-REGION_01');
      }
      await settleSearchStatistics(ds);
      expect(await rowEstimate()).toBe(Number(n));
    },
  );

  test('the migration and the entity agree: no drift', async () => {
    expect(await schemaDrift(ds)).toEqual([]);
  });

  test('"Beni Mellal" finds Béni Mellal-Khénifra; the highlight marks the accented original', async () => {
    const ids = await search('Place', 'Beni Mellal');
    expect(ids).toContain('ma-REGION_01');
    const region = corpus.Place.get('ma-REGION_01')!;
    expect(region.nameFr).toBe('Béni Mellal-Khénifra');
    expect(highlight(region, 'Beni Mellal')).toEqual([
      { field: 'nameFr', snippet: '<mark>Béni</mark> <mark>Mellal</mark>-Khénifra' },
      { field: 'nameEn', snippet: '<mark>Béni</mark> <mark>Mellal</mark>-Khénifra' },
      // A field counts when any word matches it (Spanish spells it Melal).
      { field: 'nameEs', snippet: '<mark>Beni</mark> Melal-Jenifra' },
    ]);
    // Search as you type: the last word is a prefix.
    expect(await search('Place', 'Beni Mell')).toEqual(ids);
  });

  test('Arabic finds Arabic, with or without harakat', async () => {
    const ids = await search('Place', 'بني ملال');
    expect(ids).toContain('ma-REGION_01');
    expect(await search('Place', 'بَنِي مَلَّال')).toEqual(ids);
    expect(highlight(corpus.Place.get('ma-REGION_01')!, 'بني ملال')).toEqual([
      { field: 'nameAr', snippet: '<mark>بني</mark> <mark>ملال</mark> خنيفرة' },
    ]);
    // Written with a tatweel in the source (إمزوفـرن).
    expect(await search('Place', 'امزوفرن')).toHaveLength(1);
    // The article: الكاف and كاف find El Kef.
    expect(await search('Place', 'الكاف')).toContain('tn-33011');
    expect(await search('Place', 'كاف')).toContain('tn-33011');
  });

  test('"audit" finds the commitments titled "Audit…" or "…audit…"', async () => {
    const ids = await search('Commitment', 'audit');
    for (const id of ['NG0015', 'GH0009', 'JO0010', 'NG0032', 'PNG0012']) expect(ids).toContain(id);
    // With the titles weighing more, the best match has "audit" in its title.
    const s = searchQuery(ds, 'Commitment', 'audit', {
      weights: { title: 3, shortTitle: 3 },
      prefix: 'none',
    });
    const ranked = [...(await searchScores(ds.manager, s))].sort(
      (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1),
    );
    expect(ranked[0][1]).toBeGreaterThan(0);
    expect(corpus.Commitment.get(ranked[0][0])!.title).toMatch(/audit/i);
  });

  test('every word must match, in any of the entity fields', async () => {
    // "Khénifra" is in the French name, "بني" in the Arabic one: only the region has both.
    expect(await search('Place', 'Khénifra بني')).toEqual(['ma-REGION_01']);
    expect(await search('Place', 'Khénifra Casablanca')).toEqual([]);
    // A word only in a commitment's title and one only in its full text: no single field has both.
    const [id, inTitle, inText] = [...corpus.Commitment]
      .map(([cid, f]) => {
        const title = words(`${f.title} ${f.shortTitle}`);
        const text = words(f.description ?? '');
        const unrelated = (a: string, b: string) => !a.startsWith(b) && !b.startsWith(a);
        const t = title.find((w) => text.every((o) => unrelated(w, o)));
        const d = t && text.find((w) => title.every((o) => unrelated(w, o)));
        return [cid, t, d] as const;
      })
      .find(([, t, d]) => t && d)!;
    expect(await search('Commitment', `${inTitle} ${inText}`)).toContain(id);
    expect(highlight(corpus.Commitment.get(id)!, `${inTitle} ${inText}`).map((h) => h.field)).toEqual([
      'title',
      'description',
    ]);
  });

  test('the same entities as the application computes from the original text', async () => {
    const results = new Map<string, string[]>();
    for (const [type, query] of QUERIES) {
      const ids = await search(type, query);
      expect({ query, ids }).toEqual({ query, ids: oracle(type, query) });
      expect({ query, found: ids.length > 0 }).toEqual({ query, found: true });
      results.set(`${type}: ${query}`, ids);
    }
    expect(results.get('Commitment: audit')!.length).toBeGreaterThan(5);
    found[backend] = results;
  });

  test('a query of only short or common words is refused, naming filter.search', () => {
    for (const q of ['de la', 'El', 'the who', 'في من']) {
      let error: unknown;
      try {
        searchQuery(ds, 'Place', q);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argumentName: 'filter.search',
      });
    }
  });

  test('pages in relevance order through a joined subquery, with keyset cursors', async () => {
    const s = searchQuery(ds, 'Place', 'sidi', { weights: { nameFr: 2 } });
    const scores = await searchScores(ds.manager, s);
    const qb = () =>
      ds
        .getRepository(PlaceEntity)
        .createQueryBuilder('p')
        .innerJoin(`(${s.sql})`, 'search', 'search.entity_id = p.id')
        .setParameters(s.parameters);
    const order = [relevanceOrder<Place>('search', scores)];
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    do {
      const page: Connection<Place> = await orderedConnection(qb(), { first: 25, after }, order);
      total = await page.totalCount();
      seen.push(...page.nodes.map((n) => n.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(total).toBe(scores.size);
    expect([...seen].sort()).toEqual(oracle('Place', 'sidi'));
    const values = seen.map((id) => scores.get(id)!);
    expect(values).toEqual([...values].sort((a, b) => b - a));
  });

  test('the membership SQL (no score) finds exactly the entities of the scored search, for every query', async () => {
    for (const [type, query] of QUERIES) {
      const s = searchQuery(ds, type, query);
      const [sql, params] = ds.driver.escapeQueryWithParameters(s.matchSql, s.parameters);
      const ids = ((await ds.query(sql, params)) as { entity_id: string }[]).map((r) => r.entity_id).sort();
      expect({ query, ids }).toEqual({ query, ids: await search(type, query) });
      // The count from the index alone (SQLite: FTS5 doclists), exact, and bounded when asked.
      expect({ query, count: await searchCount(ds.manager, s) }).toEqual({ query, count: ids.length });
      for (const limit of [ids.length - 1, ids.length, ids.length + 1]) {
        const [counted, countParams] = ds.driver.escapeQueryWithParameters(s.countSql(limit), s.parameters);
        const [{ n }] = (await ds.query(counted, countParams)) as { n: number | string }[];
        expect({ query, limit, n: Number(n) }).toEqual({ query, limit, n: Math.min(limit, ids.length) });
      }
      // The same membership tested one id at a time (how a common search walks a list in id order; MySQL
      // tests the row's terms with LIKE, not the FULLTEXT index): over the places table, and over every
      // entity of the type that has documents.
      const [one, oneParams] = ds.driver.escapeQueryWithParameters(
        `SELECT p.id AS id FROM places p WHERE ${s.matchesId('p.id')} ORDER BY p.id`,
        s.parameters,
      );
      if (type === 'Place') {
        const walked = ((await ds.query(one, oneParams)) as { id: string }[]).map((r) => r.id);
        expect({ query, walked }).toEqual({ query, walked: ids });
      }
      const [every, everyParams] = ds.driver.escapeQueryWithParameters(
        `SELECT DISTINCT d.entity_id AS id FROM ${SEARCH_TABLE} d WHERE d.entity_type = :t ` +
          `AND ${s.matchesId('d.entity_id')}`,
        { ...s.parameters, t: type },
      );
      const walkedAll = ((await ds.query(every, everyParams)) as { id: string }[]).map((r) => r.id).sort();
      expect({ query, walkedAll }).toEqual({ query, walkedAll: ids });
    }
  });

  test('the entity type token of the index is not a word a search finds', async () => {
    // SQLite keeps each `all` row's entity type as a token (hexadecimal) in the FTS5 column `scope`.
    for (const type of ['Place', 'Commitment', 'BudgetLine'])
      expect(await search(type, Buffer.from(type, 'utf8').toString('hex'))).toEqual([]);
  });

  test('the SearchScope step rebuilds the FTS5 table with its scope column, and back, finding the same', async () => {
    const before = await search('Place', 'sidi');
    const scoped = async () =>
      ((await ds.query(`PRAGMA table_xinfo(${SEARCH_FTS_TABLE})`)) as { name: string }[]).some(
        (c) => c.name === 'scope',
      );
    const runner = ds.createQueryRunner();
    try {
      await unscopeSearchIndex(runner);
      if (backend === 'sqlite') expect(await scoped()).toBe(false);
      await scopeSearchIndex(runner);
      // Twice is harmless: nothing to do the second time.
      await scopeSearchIndex(runner);
      if (backend === 'sqlite') expect(await scoped()).toBe(true);
    } finally {
      await runner.release();
    }
    expect(await search('Place', 'sidi')).toEqual(before);
    expect(await searchCount(ds.manager, searchQuery(ds, 'Place', 'sidi'))).toBe(before.length);
  });

  /** Every page of a searched list (searchableConnection), `first` at a time: the ids, the count, the cursors. */
  const allPages = async (
    query: string,
    rankLimit: number,
    where?: string,
  ): Promise<{ ids: string[]; total: number; cursors: string[] }> => {
    const ids: string[] = [];
    const cursors: string[] = [];
    let after: string | null = null;
    let total = -1;
    do {
      const qb = ds.getRepository(PlaceEntity).createQueryBuilder('p');
      if (where) qb.andWhere(where);
      const page: Connection<Place> = await searchableConnection(
        qb,
        { first: 7, after },
        [],
        searchQuery(ds, 'Place', query),
        { rankLimit },
      );
      const count = await page.totalCount();
      expect(total === -1 || count === total).toBe(true);
      total = count;
      ids.push(...page.nodes.map((n) => n.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      if (after) cursors.push(after);
    } while (after);
    return { ids, total, cursors };
  };

  test('a common search (more matches than the rank limit) lists the same set in id order, with an exact count', async () => {
    const expected = oracle('Place', 'sidi');
    expect(expected.length).toBeGreaterThan(50);
    const ranked = await allPages('sidi', expected.length);
    const common = await allPages('sidi', expected.length - 1);
    // The same set and count; ranked is most relevant first, common is id order (code point order).
    expect([...ranked.ids].sort()).toEqual(expected);
    expect(ranked.total).toBe(expected.length);
    expect(common.ids).toEqual(expected);
    expect(common.total).toBe(expected.length);
    const scores = await searchScores(ds.manager, searchQuery(ds, 'Place', 'sidi'));
    const byRelevance = [...expected].sort((a, b) => scores.get(b)! - scores.get(a)! || (a < b ? -1 : 1));
    expect(ranked.ids).toEqual(byRelevance);
    // With another filter on the list (the set-based path): the same set as ranked with that filter.
    const where = "p.id LIKE 'ma-%'";
    const rankedMa = await allPages('sidi', 10000, where);
    const commonMa = await allPages('sidi', 1, where);
    expect(commonMa.ids).toEqual([...rankedMa.ids].sort());
    expect(commonMa.total).toBe(rankedMa.total);
    expect(commonMa.ids.length).toBeGreaterThan(10);
    expect(commonMa.ids.length).toBeLessThan(expected.length);
  });

  test('a cursor keeps the order it was made in; a ranked cursor of a search now too common is refused', async () => {
    const expected = oracle('Place', 'sidi');
    const common = await allPages('sidi', 1);
    const ranked = await allPages('sidi', 100000);
    const page = async (after: string, rankLimit: number) =>
      searchableConnection(
        ds.getRepository(PlaceEntity).createQueryBuilder('p'),
        { first: 7, after },
        [],
        searchQuery(ds, 'Place', 'sidi'),
        { rankLimit },
      );
    // A common cursor goes on in id order even when the search could now be ranked.
    const next = await page(common.cursors[0], 100000);
    expect(next.nodes.map((n) => n.id)).toEqual(expected.slice(7, 14));
    // A ranked cursor goes on in relevance order while the search stays under the limit...
    const again = await page(ranked.cursors[0], 100000);
    expect(again.nodes.map((n) => n.id)).toEqual(ranked.ids.slice(7, 14));
    // ...and is refused, naming "after", once the search finds more than the limit.
    await expect(page(ranked.cursors[0], 1)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
    });
    // A cursor of another search is refused in both orders.
    for (const after of [common.cursors[0], ranked.cursors[0]]) {
      await expect(
        searchableConnection(
          ds.getRepository(PlaceEntity).createQueryBuilder('p'),
          { first: 7, after },
          [],
          searchQuery(ds, 'Place', 'beni'),
          { rankLimit: 1 },
        ),
      ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' } });
    }
    // first: 0 counts without probing or ranking.
    const none = await searchableConnection(
      ds.getRepository(PlaceEntity).createQueryBuilder('p'),
      { first: 0 },
      [],
      searchQuery(ds, 'Place', 'sidi'),
      { rankLimit: 1 },
    );
    expect(none.nodes).toEqual([]);
    expect(await none.totalCount()).toBe(expected.length);
  });

  test('re-indexing replaces an entity, empty text removes it, removeDocuments forgets it', async () => {
    const rows = (id: string) =>
      ds.query(`SELECT field FROM ${SEARCH_TABLE} WHERE entity_type = 'Place' AND entity_id = '${id}'`);
    await indexDocuments(ds.manager, [
      { entityType: 'Place', entityId: 'tn-33011', field: 'nameFr', text: 'Le Kef (Sicca Veneria)' },
      { entityType: 'Place', entityId: 'tn-33011', field: 'nameAr', text: null },
    ]);
    expect(await search('Place', 'Sicca Veneria')).toEqual(['tn-33011']);
    // Rows written to search_documents without this module reach SQLite's FTS5 table by a rebuild.
    if (backend === 'sqlite') {
      await ds.query(`DELETE FROM ${SEARCH_FTS_TABLE}`);
      expect(await search('Place', 'Sicca Veneria')).toEqual([]);
    }
    await rebuildSearchIndex(ds.manager);
    expect(await search('Place', 'Sicca Veneria')).toEqual(['tn-33011']);
    expect(await search('Place', 'الكاف')).not.toContain('tn-33011');
    expect((await rows('tn-33011')).map((r: { field: string }) => r.field).sort()).toEqual(['all', 'nameFr']);

    await indexDocuments(ds.manager, [
      { entityType: 'Place', entityId: 'tn-33011', field: 'nameFr', text: 'El' },
    ]);
    expect(await rows('tn-33011')).toEqual([]);

    // Inside the caller's transaction; a text longer than a MySQL TEXT column is cut at a word.
    const long = Array.from({ length: 20000 }, (_, i) => `كلمة${i}`).join(' ');
    await ds.transaction((m) =>
      indexDocuments(m, [{ entityType: 'Place', entityId: 'tn-33011', field: 'nameAr', text: long }]),
    );
    expect(await search('Place', 'كلمة0 كلمة1')).toEqual(['tn-33011']);

    await removeDocuments(ds.manager, 'Place', ['ma-REGION_01']);
    expect(await search('Place', 'Khénifra بني')).toEqual([]);
    expect(await search('Place', 'Beni Mellal')).not.toContain('ma-REGION_01');
  });

  test('every migration reverts: no search table is left', async () => {
    await ds.undoLastMigration({ transaction: 'each' });
    const runner = ds.createQueryRunner();
    try {
      expect(await runner.hasTable(SEARCH_TABLE)).toBe(false);
      if (backend === 'sqlite') expect(await runner.hasTable(SEARCH_FTS_TABLE)).toBe(false);
      expect(await runner.hasTable('places')).toBe(true);
    } finally {
      await runner.release();
    }
  });
});

describe('MySQL and SQLite', () => {
  // Without a reachable MySQL only the SQLite half runs (and already matched the application's oracle).
  (BACKENDS.length === 2 ? test : test.skip)('find the same entities for every query', () => {
    expect(found.mysql && Object.fromEntries(found.mysql)).toEqual(
      found.sqlite && Object.fromEntries(found.sqlite),
    );
    expect(found.mysql?.size).toBe(QUERIES.length);
  });
});

/**
 * Waits (5 s at most) until a word of many documents is found on a freshly bulk-indexed InnoDB table. Seen under
 * parallel suites (2 runs in 7 with three other search suites beside it, 2026-12-08): the first full-text query on
 * the table found no row while its row statistics were exact (7,685 rows, persisted and in memory), and the same
 * query a moment later found 102. A transient inside InnoDB's full-text search right after the bulk insert (words
 * still in its FTS cache; cf. MDEV-41022, a wildcard term missing words in that cache), not the statistics the
 * tests below are about; they start from an index that answers.
 */
async function firstSearchAnswers(ds: DataSource): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const found = await searchScores(ds.manager, searchQuery(ds, 'Place', 'sidi'));
    if (found.size > 0) return;
    if (Date.now() > until)
      throw new Error('the full-text index found nothing for "sidi" 5 s after indexing');
    await new Promise((r) => setTimeout(r, 100));
  }
}
