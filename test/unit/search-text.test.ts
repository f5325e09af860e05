import { GraphQLError } from 'graphql';
import {
  foldText,
  foldTokens,
  highlight,
  indexTerms,
  MAX_QUERY_LENGTH,
  parseSearch,
  searchQuery,
} from '@civic/common/search';

const sqlite = { options: { type: 'better-sqlite3' } } as unknown as Parameters<typeof searchQuery>[0];
const mysql = { options: { type: 'mariadb' } } as unknown as Parameters<typeof searchQuery>[0];

describe('foldText', () => {
  test('French: accents, case, punctuation', () => {
    expect(foldText('Béni Mellal-Khénifra')).toBe('beni mellal khenifra');
    expect(foldText('  DRÂA–Tafilalet ')).toBe('draa tafilalet');
    expect(foldText("Fès-Meknès, l'Oriental")).toBe('fes meknes l oriental');
    expect(foldText('Œuvre, Straße, Ærø')).toBe('oeuvre strasse aero');
    // The same word, precomposed or with a combining accent.
    expect(foldText('Cafe\u0301')).toBe(foldText('Café'));
    // Modifier letters of transliterations go like accents; characters outside the BMP separate words.
    expect(foldText('Saʿid Bouʼl')).toBe('said boul');
    expect(foldText('x𝒜yz')).toBe('xayz');
    expect(foldText('abc𠀀def')).toBe('abc def');
  });

  test('Arabic: harakat, shadda and tatweel go; alef, yeh and teh marbuta forms are unified', () => {
    expect(foldText('بني ملال خنيفرة')).toBe('بني ملال خنيفره');
    expect(foldText('بَنِي مَلَّال')).toBe('بني ملال');
    expect(foldText('إمزوفـرن')).toBe('امزوفرن');
    expect(foldText('أولاد حسـون')).toBe('اولاد حسون');
    expect(foldText('آسفي')).toBe('اسفي');
    expect(foldText('مصطفى')).toBe('مصطفي');
    expect(foldText('تصرّف')).toBe(foldText('تصرف'));
    expect(foldText('ٱلرباط')).toBe('الرباط');
    expect(foldText('سنة ٢٠١٨')).toBe('سنه 2018');
    // Presentation forms decompose (NFKD): the lam-alef ligature is two letters.
    expect(foldText('\ufefb')).toBe('لا');
  });

  test('tokens map back to the whole original word', () => {
    const text = 'Cafe\u0301 — حسـونٌ';
    expect(foldTokens(text).map((t) => [t.text, text.slice(t.start, t.end)])).toEqual([
      ['cafe', 'Cafe\u0301'],
      ['حسون', 'حسـونٌ'],
    ]);
  });
});

describe('terms', () => {
  test('short words and InnoDB stopwords are not indexed; the Arabic article is taken off', () => {
    expect(indexTerms('Ministry of Economy, Finance and the Budget')).toEqual([
      'ministry',
      'economy',
      'finance',
      'and',
      'budget',
    ]);
    expect(indexTerms('El Kef')).toEqual(['kef']);
    expect(indexTerms('الكاف')).toEqual(['كاف']);
    expect(indexTerms('الدار البيضاء سطات')).toEqual(['دار', 'بيضاء', 'سطات']);
    expect(indexTerms('للتنمية والتعاون')).toEqual(['تنميه', 'تعاون']);
    // The article stays when fewer than 3 letters would be left.
    expect(indexTerms('الله')).toEqual(['الله']);
  });

  test('parseSearch: distinct terms, the last one a prefix by default', () => {
    expect(parseSearch('Béni Mell').terms).toEqual([
      { text: 'beni', prefix: false },
      { text: 'mell', prefix: true },
    ]);
    expect(parseSearch('audit budget AUDIT', { prefix: 'none' }).terms).toEqual([
      { text: 'budget', prefix: false },
      { text: 'audit', prefix: false },
    ]);
    expect(parseSearch('بَنِي مَلَّال', { prefix: 'all' }).terms).toEqual([
      { text: 'بني', prefix: true },
      { text: 'ملال', prefix: true },
    ]);
  });

  test('a query with no usable word is refused, naming the argument', () => {
    for (const q of ['', '   ', 'de la', 'El', 'the with from', 'في من']) {
      let error: unknown;
      try {
        parseSearch(q);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions).toEqual({
        code: 'BAD_USER_INPUT',
        argumentName: 'filter.search',
      });
      expect((error as GraphQLError).message).toMatch(/"filter\.search" has no word that can be searched/);
    }
    expect(() => parseSearch('x'.repeat(MAX_QUERY_LENGTH + 1), { argument: 'search' })).toThrow(
      /"search" is 301 characters long/,
    );
  });

  test('the SQL carries only folded letters and digits, as parameters', () => {
    const my = searchQuery(mysql, 'Organization', 'Béni "Mellal" +x -y*');
    expect(my.parameters).toMatchObject({
      search_type: 'Organization',
      search_all: '+beni +mellal*',
      search_any: 'beni mellal*',
    });
    expect(my.sql).toMatch(/MATCH \(search_a\.text\) AGAINST \(:search_all IN BOOLEAN MODE\)/);
    expect(my.sql).not.toMatch(/beni/);
    const lite = searchQuery(sqlite, 'Organization', 'Béni Mellal', {
      weights: { nameFr: 3 },
      name: 'q',
    });
    // The words in the text column only; the entity type as its scope token (hexadecimal of "Organization");
    // the LIKE patterns of the row-by-row test.
    expect(lite.parameters).toEqual({
      q_type: 'Organization',
      q_w0: 'nameFr',
      q_any: 'text : ("beni" OR "mellal"*)',
      q_scoped: 'text : ("beni" AND "mellal"*) AND scope : "4f7267616e697a6174696f6e"',
      q_like0: '% beni %',
      q_like1: '% mellal%',
    });
    expect(lite.sql).toMatch(/^WITH q_hits AS MATERIALIZED/);
  });
});

describe('highlight', () => {
  test('marks the original accented words, not the folded ones', () => {
    expect(
      highlight({ nameFr: 'Béni Mellal-Khénifra', nameAr: 'بني ملال خنيفرة', nameEs: null }, 'beni mellal'),
    ).toEqual([{ field: 'nameFr', snippet: '<mark>Béni</mark> <mark>Mellal</mark>-Khénifra' }]);
    expect(highlight({ name: 'Drâa-Tafilalet' }, 'DRAA')).toEqual([
      { field: 'name', snippet: '<mark>Drâa</mark>-Tafilalet' },
    ]);
  });

  test('Arabic: the whole original word, harakat, shadda and tatweel included', () => {
    expect(highlight({ nameAr: 'بني ملال خنيفرة' }, 'بني خنيفرة')).toEqual([
      { field: 'nameAr', snippet: '<mark>بني</mark> ملال <mark>خنيفرة</mark>' },
    ]);
    expect(highlight({ label: 'منح ومساهمات مخصّصة للتسيير' }, 'مخصصة التسيير')).toEqual([
      { field: 'label', snippet: 'منح ومساهمات <mark>مخصّصة</mark> <mark>للتسيير</mark>' },
    ]);
    expect(highlight({ ar: 'أولاد حسـون' }, 'حسون')).toEqual([
      { field: 'ar', snippet: 'أولاد <mark>حسـون</mark>' },
    ]);
  });

  test('a window of about 80 characters around the most terms, cut on words, HTML-escaped', () => {
    const text =
      'Nigeria will ensure more effective citizens participation across the entire budget cycle, including ' +
      'the audit process, and publish the reports of the Auditor-General on time, with <citizens> & partners ' +
      'reviewing the audit findings.';
    const [h] = highlight({ description: text }, 'audit reports', { prefix: 'none' });
    expect(h).toEqual({
      field: 'description',
      snippet:
        '…including the <mark>audit</mark> process, and publish the <mark>reports</mark> of the Auditor…',
    });
    expect(highlight({ d: text }, 'partners')[0].snippet).toBe(
      '…with &lt;citizens&gt; &amp; <mark>partners</mark> reviewing the audit findings.',
    );
    expect(highlight({ d: text }, 'nigeria')[0].snippet).toBe(
      '<mark>Nigeria</mark> will ensure more effective citizens participation across the entire…',
    );
    // The last word matches as a prefix, as the backends do.
    expect(highlight({ d: text }, 'audito')[0].snippet).toMatch(/<mark>Auditor<\/mark>-General/);
  });

  test('other markers, no escaping, fields without a match left out', () => {
    expect(
      highlight({ title: 'Audit & Reports', shortTitle: 'Reports' }, 'audit', {
        open: '«',
        close: '»',
        escapeHtml: false,
      }),
    ).toEqual([{ field: 'title', snippet: '«Audit» & Reports' }]);
    expect(highlight({ title: 'Audit' }, 'de la')).toEqual([]);
  });
});
