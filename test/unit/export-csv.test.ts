import { buffer, text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { flattenNode, type Column } from '@civic/gateway/export/columns';
import { exportStream } from '@civic/gateway/export/writers';

const col = (name: string): Column => ({ name, path: name.split('.') });

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe('flattenNode', () => {
  const columns = [
    'id',
    'names.ar',
    'names.fr',
    'tags',
    'identifiers.scheme',
    'identifiers.value',
    'parent.id',
  ].map(col);

  test('nested objects by dotted path, lists of scalars and of objects joined with "; ", null as empty', () => {
    const node = {
      id: 'tn-municipality-34012',
      names: { ar: 'بوعرادة', fr: null },
      tags: ['a', 'b'],
      identifiers: [
        { scheme: 'tn-municipality', value: '34012' },
        { scheme: 'ogp', value: 'x' },
      ],
      parent: null,
    };
    expect(flattenNode(node, columns)).toEqual([
      'tn-municipality-34012',
      'بوعرادة',
      '',
      'a; b',
      'tn-municipality; ogp',
      '34012; x',
      '',
    ]);
  });

  test('values missing inside a list stay in place, so sibling columns line up', () => {
    const amounts = [
      { phase: 'APPROVED', amount: { amount: '960.000', currency: 'TND' }, asOf: null },
      { phase: 'EXECUTED', amount: { amount: '-0.500', currency: 'TND' }, asOf: '2018-01-31' },
    ];
    const cols = ['amounts.phase', 'amounts.amount.amount', 'amounts.asOf', 'empty.x'].map(col);
    expect(flattenNode({ amounts, empty: [] }, cols)).toEqual([
      'APPROVED; EXECUTED',
      '960.000; -0.500',
      '; 2018-01-31',
      '',
    ]);
  });

  test('numbers and booleans as text; an object-valued scalar as JSON', () => {
    expect(flattenNode({ n: 2018, r: 0.25, b: false, j: { a: 1 } }, ['n', 'r', 'b', 'j'].map(col))).toEqual([
      '2018',
      '0.25',
      'false',
      '{"a":1}',
    ]);
  });
});

describe('CSV writer', () => {
  const columns = [col('id'), col('label'), col('names.ar')];
  const nodes = [
    { id: 'comma', label: 'Ministry of Economy, Finance and Industry', names: { ar: 'وزارة الاقتصاد' } },
    { id: 'quote', label: 'the "open data" portal', names: { ar: null } },
    { id: 'newline', label: 'line one\nline two', names: { ar: 'سطر\nسطر' } },
    { id: 'crlf', label: 'a\r\nb', names: { ar: '' } },
    { id: 'plain', label: ' spaces kept ', names: { ar: 'بني ملال خنيفرة' } },
  ];

  test('RFC 4180: header, CRLF records, quotes only where needed, doubled quotes, Arabic untouched', async () => {
    const csv = await text(exportStream('csv', columns, from(nodes)));
    expect(csv).toBe(
      [
        'id,label,names.ar',
        'comma,"Ministry of Economy, Finance and Industry",وزارة الاقتصاد',
        'quote,"the ""open data"" portal",',
        'newline,"line one\nline two","سطر\nسطر"',
        'crlf,"a\r\nb",',
        'plain, spaces kept ,بني ملال خنيفرة',
        '',
      ].join('\r\n'),
    );
    // And a strict reader gets every value back exactly.
    const parsed = parse(csv, { columns: true, bom: true, relax_column_count: false }) as Record<
      string,
      string
    >[];
    expect(parsed).toEqual(nodes.map((n) => ({ id: n.id, label: n.label, 'names.ar': n.names.ar ?? '' })));
  });

  test('an empty export is the header alone; bom adds a UTF-8 byte order mark for Excel', async () => {
    expect(await text(exportStream('csv', columns, from([])))).toBe('id,label,names.ar\r\n');
    // (Read as bytes: a TextDecoder would drop the mark.)
    const withBom = await buffer(exportStream('csv', columns, from([]), { bom: true }));
    expect(withBom.toString('hex', 0, 3)).toBe('efbbbf');
    expect(withBom.subarray(3).toString('utf8')).toBe('id,label,names.ar\r\n');
  });
});

describe('JSON writer', () => {
  test('a JSON array of the nodes as they are, one per line', async () => {
    const nodes = [
      { id: 'a', names: { ar: 'الكاف' } },
      { id: 'b', list: [1, null] },
    ];
    const json = await text(exportStream('json', [], from(nodes)));
    expect(json).toBe('[\n{"id":"a","names":{"ar":"الكاف"}},\n{"id":"b","list":[1,null]}\n]\n');
    expect(JSON.parse(json)).toEqual(nodes);
    expect(JSON.parse(await text(exportStream('json', [], from([]))))).toEqual([]);
  });
});
