import { GraphQLError } from 'graphql';
import { loadConfig } from '@civic/subgraphs/catalog';
import { likePattern } from '@civic/common/filters';
import { languageOrder, negotiateLanguages } from '@civic/common/language';
import { institutionId, slug } from '@civic/formats/keys';
import { fromMinorUnits, money, toBigInt, toMinorUnits } from '@civic/common/money';
import { decodeCursor, encodeCursor, toConnection, toPage } from '@civic/common/pagination';

describe('config', () => {
  test('defaults: embedded SQLite per subgraph, gateway on 4000, subgraph URLs on localhost', () => {
    const c = loadConfig({});
    expect(c.gatewayPort).toBe(4000);
    expect(c.subgraphPorts).toEqual({ organizations: 4001, commitments: 4002, budgets: 4003 });
    expect(c.subgraphUrls.budgets).toBe('http://localhost:4003/graphql');
    expect(c.storage.organizations).toMatchObject({ type: 'sqlite' });
    expect((c.storage.organizations as { path: string }).path).toMatch(/data\/db\/organizations\.sqlite$/);
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('DATABASE_URL gives each subgraph its own database; a per-subgraph URL overrides one', () => {
    const c = loadConfig({
      DATABASE_URL: 'mysql://civic:s%40cret@db:3307',
      BUDGETS_DATABASE_URL: 'mysql://other@db2:3306/money',
    });
    expect(c.storage.organizations).toEqual({
      type: 'mysql',
      url: 'mysql://civic:s%40cret@db:3307',
      database: 'civic_organizations',
    });
    expect(c.storage.commitments).toMatchObject({ database: 'civic_commitments' });
    expect(c.storage.budgets).toEqual({
      type: 'mysql',
      url: 'mysql://other@db2:3306/money',
      database: 'money',
    });
  });

  test('invalid settings are refused, each named', () => {
    expect(() => loadConfig({ GATEWAY_PORT: 'eighty', DATABASE_URL: 'postgres://x' })).toThrow(
      /GATEWAY_PORT.*DATABASE_URL: must start with mysql:\/\//,
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('money', () => {
  test('exact decimal strings to minor units and back, with the currency digits', () => {
    expect(toMinorUnits('123456789012.345', 'TND')).toBe(123456789012345n);
    expect(fromMinorUnits(123456789012345n, 'TND')).toBe('123456789012.345');
    expect(fromMinorUnits('5', 'TND')).toBe('0.005');
    expect(fromMinorUnits(-1500, 'MAD')).toBe('-15.00');
    expect(fromMinorUnits(42, 'JPY')).toBe('42');
    expect(toMinorUnits('12.5', 'MAD')).toBe(1250n);
    expect(money('9007199254740993', 'TND')).toEqual({ amount: '9007199254740.993', currency: 'TND' });
  });

  test('refuses what is not exact', () => {
    expect(() => toMinorUnits('1.2345', 'TND')).toThrow(/4 decimals; TND has 3/);
    expect(() => toMinorUnits('1e3', 'TND')).toThrow(/not a decimal amount/);
    expect(() => toMinorUnits('1', 'XYZ')).toThrow(/Unknown ISO 4217/);
    expect(() => toBigInt(2 ** 60)).toThrow(/beyond exact range/);
  });
});

describe('pagination', () => {
  test('cursors are opaque and round-trip', () => {
    const c = encodeCursor('MO0012');
    expect(c).not.toContain('MO0012');
    expect(decodeCursor(c)).toBe('MO0012');
  });

  test('first must be 0..100 and after a cursor of ours', () => {
    expect(toPage({})).toEqual({ first: 20, afterId: null });
    expect(toPage({ first: 0 })).toEqual({ first: 0, afterId: null });
    expect(() => toPage({ first: 101 })).toThrow(GraphQLError);
    expect(() => toPage({ first: -1 })).toThrow(/between 0 and 100; got -1/);
    expect(() => toPage({ after: 'abc' })).toThrow(/"after" is not a cursor/);
  });

  test('a page fetched with one extra row says whether more follow', async () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const conn = toConnection(
      rows,
      { first: 2, afterId: null },
      (r) => r.id,
      async () => 3,
    );
    expect(conn.nodes).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(conn.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor('b') });
    expect(await conn.totalCount()).toBe(3);
    const last = toConnection(
      rows.slice(2),
      { first: 2, afterId: 'b' },
      (r) => r.id,
      async () => 3,
    );
    expect(last.pageInfo.hasNextPage).toBe(false);
  });
});

describe('keys and patterns', () => {
  test('slugs are ASCII, stable, and keep distinct long or non-Latin names apart', () => {
    expect(slug('Béni Mellal-Khénifra')).toBe('beni-mellal-khenifra');
    expect(slug('بلدية الكاف')).toMatch(/^[0-9a-f]{8}$/);
    expect(slug('بلدية الكاف')).not.toBe(slug('بلدية تونس'));
    const long = 'Ministry of '.repeat(10);
    expect(slug(long).length).toBeLessThanOrEqual(80);
    expect(slug(`${long}A`)).not.toBe(slug(`${long}B`));
    expect(institutionId('MA', '  House of   Representatives ')).toBe('inst-ma-house-of-representatives');
  });

  test('LIKE patterns escape the wildcards of the text itself', () => {
    expect(likePattern('50%_off!')).toBe('%50!%!_off!!%');
    expect(likePattern('1.', 'prefix')).toBe('1.%');
  });
});

describe('language negotiation', () => {
  test('Accept-Language first, by quality, regional tags counting as their language; then the fallback', () => {
    expect(negotiateLanguages('ar-MA, en;q=0.8', ['fr', 'en', 'ar', 'es'])).toEqual(['ar', 'en', 'fr', 'es']);
    expect(negotiateLanguages('de', ['fr', 'en', 'ar', 'es'])).toEqual(['fr', 'en', 'ar', 'es']);
    expect(negotiateLanguages(null, ['en', 'fr', 'ar', 'es'])).toEqual(['en', 'fr', 'ar', 'es']);
    expect(languageOrder(['fr', 'en', 'ar', 'es'], 'ar')).toEqual(['ar', 'fr', 'en', 'es']);
  });

  test('LANGUAGE_FALLBACK is validated and completed with the languages it leaves out', () => {
    expect(loadConfig({ LANGUAGE_FALLBACK: 'ar, fr' }).languageFallback).toEqual(['ar', 'fr', 'en', 'es']);
    expect(() => loadConfig({ LANGUAGE_FALLBACK: 'fr,xx' })).toThrow(/LANGUAGE_FALLBACK: .*got "fr,xx"/);
  });
});
