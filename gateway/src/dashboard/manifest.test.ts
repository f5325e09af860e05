import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate } from 'graphql';
import { readSupergraph } from '../supergraph';
import { documentsOfFile, readManifest as readPersistedManifest } from '../persisted/documents';
import { manifestOf, MANIFEST_FILE, QUERIES_FILE, readManifest, serializeManifest } from './manifest';
import { renderDashboard } from './page';

/**
 * The dashboard's persisted queries: the checked-in manifest (gateway/src/persisted/manifests/dashboard.json) is
 * exactly what gateway/src/dashboard/queries.graphql generates, so the page can never send an id the gateway
 * does not know. When this fails: `npx tsx gateway/src/dashboard/manifest.ts`.
 */

const source = readFileSync(QUERIES_FILE, 'utf8');

it('the manifest is in sync with queries.graphql', () => {
  expect(readFileSync(MANIFEST_FILE, 'utf8')).toBe(serializeManifest(manifestOf(source)));
});

it('each id is the SHA-256 of its body, as the gateway checks when it loads the manifests', () => {
  const manifest = readManifest();
  for (const op of manifest.operations) {
    expect(op.id).toBe(createHash('sha256').update(op.body, 'utf8').digest('hex'));
    expect(op.type).toBe('query');
  }
  // The gateway's own reader accepts it, and its splitting of a .graphql file (npm run persisted:add) gives the
  // same documents: the two ways of persisting these operations agree.
  const loaded = readPersistedManifest(readFileSync(MANIFEST_FILE, 'utf8'), 'dashboard.json');
  expect(loaded.map((d) => d.id)).toEqual(manifest.operations.map((o) => o.id));
  expect(documentsOfFile(source, 'queries.graphql').map((d) => [d.name, d.id, d.body])).toEqual(
    manifest.operations.map((o) => [o.name, o.id, o.body]),
  );
});

it('a change to an operation changes its id, and a comment or the layout does not', () => {
  const ids = manifestOf(source).operations.map((o) => o.id);
  const relaid = source.replace(/\n\s*#[^\n]*/g, '').replace(/ {2}/g, ' ');
  expect(manifestOf(relaid).operations.map((o) => o.id)).toEqual(ids);
  const changed = source.replace('commitmentStats(groupBy: [MEMBER])', 'commitmentStats(groupBy: [THEME])');
  expect(changed).not.toBe(source);
  expect(manifestOf(changed).operations.map((o) => o.id)).not.toEqual(ids);
  expect(() => manifestOf('{ budgets { totalCount } }')).toThrow(/needs a name/);
});

it('every operation is valid against the supergraph the gateway serves', () => {
  const schema = Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
  for (const op of readManifest().operations) {
    expect([op.name, validate(schema, parse(op.body)).map((e) => e.message)]).toEqual([op.name, []]);
  }
});

it('the page sends the ids of the manifest, and nothing else', () => {
  const ids = Object.fromEntries(readManifest().operations.map((o) => [o.name, o.id]));
  const asset = { path: '/x', type: 'text/plain', integrity: 'sha384-x' } as never;
  const html = renderDashboard({
    lang: 'fr',
    ids,
    graphqlPath: '/graphql',
    assets: { chart: asset, script: asset, style: asset },
  });
  const config = JSON.parse(
    /<script type="application\/json" id="dashboard-config">(.*?)<\/script>/s.exec(html)![1],
  );
  expect(config.operations).toEqual(ids);
  expect(Object.keys(ids).sort()).toEqual([
    'DashboardCommitmentsByCountry',
    'DashboardMunicipalities',
    'DashboardMunicipalityBudget',
    'DashboardOgpMembers',
  ]);
});
