import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { DEFAULT_OPERATION_LIMITS } from '@civic/common/config';
import {
  documentProblems,
  documentsOfFile,
  PersistedDocumentError,
  readManifest,
  toManifest,
} from '@civic/gateway/persisted/documents';
import { KnownDocuments, loadManifests, MANIFESTS_DIR } from '@civic/gateway/persisted/known';
import type { PersistedStore, StoredDocument } from '@civic/gateway/persisted/store';
import { readSupergraph } from '@civic/gateway/supergraph';

/**
 * Persisted documents (issue 11) without a server: the built-in manifests (every one checked against the
 * checked-in supergraph and the default limits), how a `.graphql` file becomes documents, how a manifest is
 * read, and how the gateway's view of the store follows it.
 */

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const api = Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();

describe('the built-in manifests (gateway/src/persisted/manifests)', () => {
  const files = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.json'));

  it('are all loaded, each as its file’s client', () => {
    const docs = loadManifests();
    expect(new Set(docs.map((d) => d.client))).toEqual(new Set(files.map((f) => f.replace(/\.json$/, ''))));
  });

  it.each(files)(
    '%s: every id is the SHA-256 of its body, and every body validates within the limits',
    (file) => {
      const docs = loadManifests().filter((d) => `${d.client}.json` === file);
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(doc.id).toBe(sha(doc.body));
        expect(doc.type).toBe('query');
        expect({ name: doc.name, problems: documentProblems(doc, api, DEFAULT_OPERATION_LIMITS) }).toEqual({
          name: doc.name,
          problems: [],
        });
      }
    },
  );
});

describe('a .graphql file', () => {
  const file = `# comments and layout do not change the ids
query B($id: ID!) { organization(id: $id) { ...Named parent { ...Named } } }
fragment Unused on Organization { country }
fragment Named on Organization { id ...Deeper }
fragment Deeper on Organization { name }
query A { __typename }
`;

  it('becomes one document per operation, with the fragments it uses (sorted), printed, its id the SHA-256', () => {
    const docs = documentsOfFile(file, 'f.graphql');
    expect(docs.map((d) => d.name)).toEqual(['B', 'A']);
    const b = docs[0];
    expect(b.body).toBe(
      [
        'query B($id: ID!) {\n  organization(id: $id) {\n    ...Named\n    parent {\n      ...Named\n    }\n  }\n}',
        'fragment Deeper on Organization {\n  name\n}',
        'fragment Named on Organization {\n  id\n  ...Deeper\n}',
      ].join('\n\n'),
    );
    expect(b.id).toBe(sha(b.body));
    expect(docs[1]).toEqual({
      id: sha('query A {\n  __typename\n}'),
      name: 'A',
      type: 'query',
      body: 'query A {\n  __typename\n}',
    });
    // Another layout of the same operations gives the same ids.
    const again = documentsOfFile(file.replace(/\n/g, '\n\n  ').replace(/# .*/, ''), 'g.graphql');
    expect(again.map((d) => d.id)).toEqual(docs.map((d) => d.id));
    for (const d of docs) expect(documentProblems(d, api, DEFAULT_OPERATION_LIMITS)).toEqual([]);
  });

  it.each([
    ['query {', /does not parse/],
    ['fragment F on Query { __typename }', /has no operation/],
    ['mutation M { x }', /mutation M: this graph answers queries only/],
    ['query Q { ...Missing }', /uses the fragment Missing, which the file does not define/],
    ['type T { a: Int }', /only operations and fragments can be persisted/],
  ])('%s is refused, saying why', (text, message) => {
    expect(() => documentsOfFile(text, 'f.graphql')).toThrow(PersistedDocumentError);
    expect(() => documentsOfFile(text, 'f.graphql')).toThrow(message);
  });

  it('is held to the limits: an unknown field, too deep, too many tokens', () => {
    const [unknown] = documentsOfFile('query U { nope }', 'f');
    expect(documentProblems(unknown, api, DEFAULT_OPERATION_LIMITS)).toEqual([
      'Cannot query field "nope" on type "Query".',
    ]);
    const nest = (n: number): string => (n ? `parent { ${nest(n - 1)} }` : 'id');
    const [deep] = documentsOfFile(`query D { organization(id: "x") { ${nest(12)} } }`, 'f');
    expect(documentProblems(deep, api, DEFAULT_OPERATION_LIMITS).join()).toMatch(/depth/i);
    const [long] = documentsOfFile(`query L { ${'__typename '.repeat(50)} }`, 'f');
    expect(documentProblems(long, api, { ...DEFAULT_OPERATION_LIMITS, maxTokens: 20 }).join()).toMatch(
      /more than the 20 tokens a document may have \(MAX_TOKENS\)/,
    );
  });
});

describe('an Apollo manifest', () => {
  const body = 'query P {\n  __typename\n}';
  const manifest = (ops: unknown) =>
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: ops });

  it('is read with its ids checked, and written back the same', () => {
    const docs = readManifest(manifest([{ id: sha(body), name: 'P', type: 'query', body }]), 'm.json');
    expect(docs).toEqual([{ id: sha(body), name: 'P', type: 'query', body }]);
    expect(JSON.parse(JSON.stringify(toManifest(docs)))).toEqual(
      JSON.parse(manifest([{ id: sha(body), name: 'P', type: 'query', body }])),
    );
  });

  it.each([
    ['not JSON', '{', /m\.json is not valid JSON/],
    [
      'another format',
      JSON.stringify({ format: 'x', version: 1, operations: [] }),
      /not an Apollo persisted query manifest/,
    ],
    [
      'a wrong id',
      manifest([{ id: sha('x'), name: 'P', type: 'query', body }]),
      /is not the SHA-256 of its body/,
    ],
    ['a short id', manifest([{ id: 'abc', name: 'P', type: 'query', body }]), /"id" must be the SHA-256/],
    ['a mutation', manifest([{ id: sha(body), name: 'P', type: 'mutation', body }]), /answers queries only/],
    ['no body', manifest([{ id: sha(body), name: 'P', type: 'query' }]), /"body" must be a GraphQL document/],
    [
      'a document twice',
      manifest([
        { id: sha(body), name: 'P', type: 'query', body },
        { id: sha(body), name: 'P', type: 'query', body },
      ]),
      /listed twice/,
    ],
  ])('with %s is refused, naming the file and the entry', (_what, text, message) => {
    expect(() => readManifest(text, 'm.json')).toThrow(message);
  });

  it('named as no client can be is refused at load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-manifests-'));
    try {
      writeFileSync(join(dir, 'bad name.json'), manifest([]));
      expect(() => loadManifests(dir)).toThrow(/file name is its client's name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(loadManifests(join(tmpdir(), 'civic-no-such-dir'))).toEqual([]);
  });
});

/** A store in memory that counts its reads and can be made to fail: the database's behaviour is e2e-tested. */
function countingStore(): PersistedStore & { docs: StoredDocument[]; reads: number; failing: boolean } {
  const store = {
    location: 'memory',
    docs: [] as StoredDocument[],
    reads: 0,
    failing: false,
    async add() {
      return { added: [], renamed: [], unchanged: [] };
    },
    async list() {
      if (store.failing) throw new Error('down');
      store.reads++;
      return [...store.docs];
    },
    async remove() {
      return 0;
    },
    async version() {
      if (store.failing) throw new Error('down');
      return `${store.docs.length}@${
        store.docs
          .map((d) => d.addedAt)
          .sort()
          .at(-1) ?? ''
      }`;
    },
    async close() {},
  };
  return store;
}

describe('the gateway’s view of the store (KnownDocuments)', () => {
  const doc = (body: string, at: string): StoredDocument => ({
    client: 'c',
    id: sha(body),
    name: null,
    type: 'query',
    body,
    addedAt: at,
  });

  it('reads the store whole only when its version changed, and sees an addition once refreshMs has passed', async () => {
    const store = countingStore();
    const a = doc('{ a }', '2026-01-01T00:00:00.000Z');
    store.docs.push(a);
    const known = new KnownDocuments({ manifests: [], store, refreshMs: 100 });
    await known.refresh();
    expect(store.reads).toBe(1);
    expect(await known.get(a.id)).toEqual(a);
    // Unknown ids within refreshMs cost nothing.
    for (let i = 0; i < 100; i++) expect(await known.get(sha(`x${i}`))).toBeUndefined();
    expect(store.reads).toBe(1);
    const b = doc('{ b }', '2026-01-02T00:00:00.000Z');
    store.docs.push(b);
    expect(await known.get(b.id)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 120));
    expect(await known.get(b.id)).toEqual(b);
    expect(store.reads).toBe(2);
    // The version unchanged: no second read of the documents.
    await new Promise((r) => setTimeout(r, 120));
    expect(await known.get(sha('nothing'))).toBeUndefined();
    expect(store.reads).toBe(2);
  });

  it('keeps what it read while the store is down; with nothing ever read, refuses to guess', async () => {
    const store = countingStore();
    const a = doc('{ a }', '2026-01-01T00:00:00.000Z');
    store.docs.push(a);
    const known = new KnownDocuments({ manifests: [], store, refreshMs: 10 });
    await known.refresh();
    store.failing = true;
    await new Promise((r) => setTimeout(r, 20));
    expect(await known.get(a.id)).toEqual(a);
    expect(await known.get(sha('other'))).toBeUndefined();

    const never = new KnownDocuments({ manifests: [], store, refreshMs: 10 });
    await expect(never.get(a.id)).rejects.toThrow('Persisted documents cannot be looked up right now');
    // A manifest's document needs no store.
    const m = { ...a, client: 'm' };
    expect(await new KnownDocuments({ manifests: [m], store, refreshMs: 10 }).get(a.id)).toEqual(m);
  });
});
