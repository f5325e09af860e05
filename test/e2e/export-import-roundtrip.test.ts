import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { runImport } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { organizationsImporter } from '@civic/subgraphs/organizations/src/import/organizations';
import { organizationsSubgraph } from '@civic/subgraphs/organizations/src/server';
import { BACKENDS, freshStorage, startSystem, type Backend, type System } from '../support/system';

/**
 * A journalist's round trip: the Tunisian organizations (names in Arabic, several pages of the connection)
 * downloaded from the gateway as CSV and as JSON, loaded into an empty organizations database with
 * `npm run import -- organizations`, and compared field by field with the database they were exported from.
 */

/** What an organization is, without where it was loaded from. */
const CONTENT = `id, kind, classification, country, parent_id, name_ar, name_fr, name_en, name_es,
  ogp_membership_type, ogp_joined`;

type Row = Record<string, string | null>;

async function organizations(ds: DataSource, where = ''): Promise<Row[]> {
  return ds.query(`SELECT ${CONTENT} FROM organizations ${where} ORDER BY id`);
}

async function identifiers(ds: DataSource, ids: readonly string[]): Promise<string[]> {
  const all: { organization_id: string; scheme: string; value: string }[] = await ds.query(
    'SELECT organization_id, scheme, value FROM organization_identifiers ORDER BY organization_id, scheme, value',
  );
  const wanted = new Set(ids);
  return all
    .filter((i) => wanted.has(i.organization_id))
    .map((i) => `${i.organization_id} ${i.scheme}:${i.value}`);
}

const SAVED =
  'name=organizations&variables=' + encodeURIComponent(JSON.stringify({ filter: { country: 'TN' } }));

describe.each(BACKENDS)('export then import: the Tunisian organizations (%s)', (backend: Backend) => {
  let sys: System;
  let tmp: string;
  let exported: Row[];

  beforeAll(async () => {
    sys = await startSystem(backend);
    tmp = mkdtempSync(join(tmpdir(), 'civic-roundtrip-'));
    exported = await organizations(sys.dataSources.organizations, "WHERE country = 'TN'");
  });
  afterAll(async () => {
    await sys?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Downloads the saved query's export in `format` into a file; returns its path and text. */
  async function download(format: 'csv' | 'json'): Promise<{ path: string; text: string }> {
    const res = await fetch(new URL(`/export.${format}?${SAVED}`, sys.gatewayUrl), {
      headers: { 'accept-language': 'ar' },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const path = join(tmp, `organizations-tn.${format}`);
    writeFileSync(path, text);
    return { path, text };
  }

  /** Loads a file into a new, empty organizations database; returns the report and that database. */
  async function importInto(path: string) {
    const { storage, drop } = freshStorage(backend);
    const ds = await prepareSubgraph(organizationsSubgraph, storage.organizations, { seed: 'never' });
    const report: ImportReport = await runImport(
      'organizations',
      path,
      [{ part: organizationsImporter.part({}), ds }],
      {
        strict: false,
        dryRun: false,
        prune: false,
        batchSize: 100,
        params: {},
      },
    );
    return { report, ds, drop };
  }

  test.each(['csv', 'json'] as const)(
    'the %s export loads back into an empty database as the very same organizations',
    async (format) => {
      const { path, text } = await download(format);
      // More than one page of the connection (the saved query pages 100 at a time), Arabic kept.
      expect(exported.length).toBeGreaterThan(250);
      if (format === 'csv') {
        const records: Record<string, string>[] = parse(text, { columns: true, bom: true });
        expect(records).toHaveLength(exported.length);
        expect(records.find((r) => r.id === 'tn-municipality-33011')?.['names.ar']).toBe(
          exported.find((r) => r.id === 'tn-municipality-33011')!.name_ar,
        );
      }
      const { report, ds, drop } = await importInto(path);
      try {
        expect(report.outcome).toBe('loaded');
        expect(report.rows).toEqual({ read: exported.length, valid: exported.length, refused: 0 });
        expect(report.refused).toEqual([]);

        const imported = await organizations(ds);
        expect(imported).toEqual(exported);
        const ids = exported.map((r) => r.id!);
        expect(await identifiers(ds, ids)).toEqual(await identifiers(sys.dataSources.organizations, ids));
        expect(imported.filter((r) => r.name_ar).length).toBeGreaterThan(250);

        // Each record cites the download and the line it is on.
        const [kef] = await ds.query(
          'SELECT source_file AS file, source_line AS line, source_checksum AS checksum FROM organizations WHERE id = ?',
          ['tn-municipality-33011'],
        );
        expect(kef.file).toBe(path);
        expect(kef.checksum).toBe(report.checksum);
        const lines = readFileSync(path, 'utf8').split('\n');
        expect(lines[Number(kef.line) - 1]).toContain('tn-municipality-33011');

        // And loading the same download again changes nothing.
        const again = await runImport('organizations', path, [{ part: organizationsImporter.part({}), ds }], {
          strict: false,
          dryRun: false,
          prune: false,
          batchSize: 100,
          params: {},
        });
        const written = Object.values(again.parts[0].tables).reduce((s, t) => s + t.inserted + t.updated, 0);
        expect(written).toBe(0);
        expect(again.parts[0].tables.organizations.unchanged).toBe(exported.length);
      } finally {
        await ds.destroy();
        await drop();
      }
    },
  );
});
