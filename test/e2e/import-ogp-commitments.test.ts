import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import type { SubgraphName } from '@civic/subgraphs/catalog';
import { runImport, type BoundPart, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { readOgpExport } from '@civic/formats/ogp-export';
import { importers as commitmentsImporters } from '@civic/subgraphs/commitments/src/import';
import { importers as organizationsImporters } from '@civic/subgraphs/organizations/src/import';
import { importEnv, runImportCli } from '../support/import-cli';
import { counts } from '../support/imports';
import { BACKENDS, MODULES, freshStorage, seededStorage, type Backend } from '../support/system';
import { tableContents } from '../support/tables';

const KIND = 'ogp-commitments';
const ROOT = join(__dirname, '..', '..');
const REAL = datasetPath(SOURCES.ogpCommitments.file);
/** What the seed's records cite: the bundled file, relative to the repository. */
const SEEDED = `data/datasets/${SOURCES.ogpCommitments.file}`;
const ID = 'Commitment Unique Identifier';

// The real export, read with plain csv-parse (not the code under test): each record's cells, the line it
// starts on and its exact text (a record spans several lines when a cell holds newlines).
const realText = readFileSync(REAL, 'utf8');
const realLines = realText.split('\n');
const parsed = parse(realText, { bom: true, info: true }) as unknown as {
  record: string[];
  info: { lines: number };
}[];
const header = parsed[0].record;
const records = (() => {
  let end = parsed[0].info.lines;
  return parsed.slice(1).map((p) => {
    const line = end + 1;
    end = p.info.lines;
    const cells = Object.fromEntries(header.map((h, i) => [h, p.record[i]]));
    return { id: cells[ID], cells, line, text: realLines.slice(line - 1, end).join('\n') };
  });
})();
/** The line a commitment starts on, found by its id at the start of a line of the file. */
const startLine = (id: string) => realLines.findIndex((l) => l.startsWith(`${id},`)) + 1;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'civic-import-ogp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** Writes a file of the real header line and these records' exact text. */
function exportFile(recs: readonly { text: string }[], name = `export-${++files}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, `${[realLines[0], ...recs.map((r) => r.text)].join('\n')}\n`);
  return path;
}
function writeFile(content: string | Buffer): string {
  const path = join(dir, `file-${++files}.csv`);
  writeFileSync(path, content);
  return path;
}

const FIRST_50 = records.slice(0, 50);
const subset50 = exportFile(FIRST_50, 'first-50.csv');

interface Db {
  storage: Record<SubgraphName, StorageConfig>;
  org: DataSource;
  com: DataSource;
  close(): Promise<void>;
}

/**
 * Fresh organizations and commitments databases, migrated, seeded with the real datasets (a copy of this run's
 * seeded template, test/support/templates.ts) or empty.
 */
async function openDb(backend: Backend, seed: 'always' | 'never'): Promise<Db> {
  const { storage, drop } =
    seed === 'always'
      ? await seededStorage(backend, ['organizations', 'commitments'])
      : freshStorage(backend);
  const org = await prepareSubgraph(MODULES.organizations, storage.organizations, { seed: 'never' });
  const com = await prepareSubgraph(MODULES.commitments, storage.commitments, { seed: 'never' });
  return {
    storage,
    org,
    com,
    close: async () => {
      await org.destroy();
      await com.destroy();
      await drop();
    },
  };
}

/** The kind's parts as the CLI builds them: from each subgraph's registered importers, organizations first. */
function parts(db: Db): BoundPart[] {
  return [
    { s: organizationsImporters, ds: db.org },
    { s: commitmentsImporters, ds: db.com },
  ].flatMap(({ s, ds }) => s.filter((i) => i.kind === KIND).map((i) => ({ part: i.part({}), ds })));
}

const run = (db: Db, path: string, options: Partial<ImportOptions> = {}) =>
  runImport(KIND, path, parts(db), {
    strict: false,
    dryRun: false,
    prune: false,
    batchSize: 2000,
    params: {},
    ...options,
  });

const partOf = (r: ImportReport, subgraph: string) => r.parts.find((p) => p.subgraph === subgraph)!;
const tablesOf = (r: ImportReport, subgraph: string) => partOf(r, subgraph).tables;
const ORG_TABLES = ['organizations', 'organization_identifiers'];
const COM_TABLES = [
  'action_plans',
  'commitments',
  'commitment_co_lead_organizations',
  'commitment_supporting_organizations',
  'commitment_policy_areas',
  'commitment_ogp_values',
];
async function count(ds: DataSource, table: string, where = '', params: unknown[] = []): Promise<number> {
  const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM ${table} ${where}`, params);
  return Number(n);
}
async function tableCounts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ORG_TABLES) out[t] = await count(db.org, t);
  for (const t of COM_TABLES) out[t] = await count(db.com, t);
  out.search_commitments = await count(db.com, 'search_documents', "WHERE entity_type = 'Commitment'");
  return out;
}
const row = async (ds: DataSource, table: string, id: string) =>
  ((await ds.query(`SELECT * FROM ${table} WHERE id = ?`, [id])) as Record<string, unknown>[])[0];

/** Queries the commitments subgraph, started for real on port 0 over this database. */
async function queryCommitments<T>(db: Db, query: string, variables?: Record<string, unknown>) {
  const service = await MODULES.commitments.createService(db.com, { closeDataSource: false });
  try {
    const { url } = await service.listen(0, '127.0.0.1');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: T; errors?: unknown[] };
  } finally {
    await service.stop();
  }
}

/** The CLI, as people run it, on these databases: its exit status and what it printed. */
const cli = (db: Db, args: string[]) => runImportCli(db.storage, args);
const cliEnv = (db: Db) => importEnv(db.storage);

describe.each(BACKENDS)('ogp-commitments import on %s', (backend) => {
  describe('the real export over the seeded database', () => {
    let db: Db;
    let before: Record<string, number>;
    let first: ImportReport;
    let second: ImportReport;
    let importedAt: unknown;
    /** What the seed loaded from the export (it loads the OGP Local file too, another dataset). */
    const seeded = {
      organizations: 0,
      identifiers: 0,
      actionPlans: 0,
      coLeads: 0,
      supporters: 0,
      policyAreas: 0,
      ogpValues: 0,
    };
    const DATASET = [SOURCES.ogpCommitments.dataset];
    let seededMo: Record<string, unknown>;
    let seededLocal: Record<string, unknown>;
    const OF_EXPORT = 'WHERE commitment_id IN (SELECT id FROM commitments WHERE source_dataset = ?)';

    beforeAll(async () => {
      db = await openDb(backend, 'always');
      before = await tableCounts(db);
      seeded.organizations = await count(db.org, 'organizations', 'WHERE source_dataset = ?', DATASET);
      seeded.identifiers = await count(
        db.org,
        'organization_identifiers',
        "WHERE scheme IN ('ogp-member-code', 'iso3166-1-alpha2')",
      );
      seeded.actionPlans = await count(db.com, 'action_plans', 'WHERE source_dataset = ?', DATASET);
      seeded.coLeads = await count(db.com, 'commitment_co_lead_organizations', OF_EXPORT, DATASET);
      seeded.supporters = await count(db.com, 'commitment_supporting_organizations', OF_EXPORT, DATASET);
      seeded.policyAreas = await count(db.com, 'commitment_policy_areas', OF_EXPORT, DATASET);
      seeded.ogpValues = await count(db.com, 'commitment_ogp_values', OF_EXPORT, DATASET);
      seededMo = await row(db.com, 'commitments', 'MO0012');
      seededLocal = await row(db.com, 'commitments', 'ogpl-el-kef-2021-01');
      first = await run(db, REAL);
      importedAt = (await row(db.com, 'commitments', 'MO0012')).imported_at;
      second = await run(db, REAL);
    });
    afterAll(() => db?.close());

    it('finds the seeded rows unchanged (the seed is this import of the bundled file): the same counts', async () => {
      expect(first.error).toBeNull();
      expect(first.outcome).toBe('loaded');
      expect(first.rows).toEqual({ read: 558, valid: 558, refused: 0 });
      expect(records).toHaveLength(558);
      // The same file (the same checksum) from the same lines: nothing to write, whatever name it is given.
      expect(tablesOf(first, 'organizations')).toEqual({
        organizations: counts({ unchanged: seeded.organizations }),
      });
      expect(tablesOf(first, 'commitments')).toEqual({
        action_plans: counts({ unchanged: seeded.actionPlans }),
        commitments: counts({ unchanged: 558 }),
      });
      expect(seeded.actionPlans).toBe(new Set(records.map((r) => r.cells['Action Plan ID'])).size);
      expect([seeded.coLeads, seeded.supporters, seeded.policyAreas, seeded.ogpValues]).toEqual([
        readOgpExport().rows.reduce((n, x) => n + x.leads.length - (x.leads.length ? 1 : 0), 0),
        readOgpExport().rows.reduce((n, x) => n + x.supporters.length, 0),
        readOgpExport().rows.reduce((n, x) => n + x.policyAreas.length, 0),
        readOgpExport().rows.reduce((n, x) => n + x.ogpValues.length, 0),
      ]);
      expect(seeded.identifiers).toBeGreaterThan(0);
      expect(await tableCounts(db)).toEqual(before);
      expect(partOf(first, 'organizations').missing).toEqual({ count: 0, sample: [] });
      expect(partOf(first, 'commitments').missing).toEqual({ count: 0, sample: [] });
    });

    it('warns as the seed does, each warning once', () => {
      const seedWarnings = readOgpExport().warnings;
      // The seed's cell warnings, and the organizations seed's one about Kosovo ("Other").
      expect(first.warnings.length + first.issuesNotListed.warnings).toBe(seedWarnings.length + 1);
      const kosovo = records.find((r) => r.cells['National Or Local'] === 'Other')!;
      expect(first.warnings).toContainEqual({
        file: REAL,
        line: kosovo.line,
        column: 'National Or Local',
        value: 'Other',
        reason: expect.stringContaining('loaded as a national-level member (gov-xk)'),
      });
      const stray = records.find((r) => r.cells.Verifiable === '1')!;
      expect(first.warnings).toContainEqual({
        file: REAL,
        line: stray.line,
        column: 'Verifiable',
        value: '1',
        reason: 'value "1" read as Yes',
      });
    });

    it('seeds records with their file, checksum and line, as an import does', () => {
      expect(seededMo).toMatchObject({
        source_dataset: SOURCES.ogpCommitments.dataset,
        source_record: 'MO0012',
        source_file: SEEDED,
        source_checksum: sha256(REAL),
      });
      expect(Number(seededMo.source_line)).toBe(2890);
      expect(seededMo.imported_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      // The OGP Local file's commitments too: the line of the member record they are described in.
      const local = readFileSync(datasetPath(SOURCES.ogpLocal.file), 'utf8').split('\n');
      expect(seededLocal).toMatchObject({
        source_dataset: SOURCES.ogpLocal.dataset,
        source_record: 'el-kef.actionPlans[0].commitmentsDescribed[0]',
        source_file: `data/datasets/${SOURCES.ogpLocal.file}`,
        source_checksum: sha256(datasetPath(SOURCES.ogpLocal.file)),
      });
      expect(local[Number(seededLocal.source_line) - 1]).toBe('    {');
      expect(local[Number(seededLocal.source_line)]).toContain('"key": "el-kef"');
    });

    it('records the file, its checksum and the line of every record', async () => {
      const mo = await row(db.com, 'commitments', 'MO0012');
      expect(startLine('MO0012')).toBe(2890);
      expect(mo).toMatchObject({
        source_dataset: SOURCES.ogpCommitments.dataset,
        source_url: 'https://opengovpartnership.org/members/morocco/commitments/mo0012',
        source_record: 'MO0012',
        // The seed's: the import found the same file (same checksum) unchanged.
        source_file: SEEDED,
        source_checksum: sha256(REAL),
        title: records.find((r) => r.id === 'MO0012')!.cells['Commitment Title'],
      });
      expect(Number(mo.source_line)).toBe(2890);
      expect(mo.imported_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(
        await count(db.com, 'commitments', 'WHERE source_line IS NULL AND source_dataset = ?', [
          SOURCES.ogpCommitments.dataset,
        ]),
      ).toBe(0);
      // A plan and an organization: from the first row naming them, as the seed records them.
      const firstMoroccan = records.find((r) => r.cells.Code === 'MAR')!;
      const plan = await row(db.com, 'action_plans', 'AP_MAR01');
      const firstOfPlan = records.find((r) => r.cells['Action Plan ID'] === 'AP_MAR01')!;
      expect([plan.source_record, Number(plan.source_line)]).toEqual(['AP_MAR01', firstOfPlan.line]);
      const ma = await row(db.org, 'organizations', 'gov-ma');
      expect(ma).toMatchObject({ name_fr: 'Maroc', name_ar: 'المغرب', source_record: firstMoroccan.id });
      expect(Number(ma.source_line)).toBe(firstMoroccan.line);
      // Commitments refer to the organizations subgraph's records by key only: every key exists there.
      const leads: { id: string }[] = await db.com.query(
        'SELECT DISTINCT lead_organization_id AS id FROM commitments WHERE lead_organization_id IS NOT NULL',
      );
      const known = new Set(
        ((await db.org.query('SELECT id FROM organizations')) as { id: string }[]).map((o) => o.id),
      );
      expect(leads.filter((l) => !known.has(l.id))).toEqual([]);
    });

    it('finds everything unchanged on a second import, and writes nothing', async () => {
      expect(second.outcome).toBe('loaded');
      for (const p of second.parts)
        for (const [table, c] of Object.entries(p.tables))
          expect([table, c.inserted, c.updated, c.deleted]).toEqual([table, 0, 0, 0]);
      expect(tablesOf(second, 'commitments').commitments).toEqual(counts({ unchanged: 558 }));
      expect(tablesOf(second, 'commitments').action_plans).toEqual(counts({ unchanged: seeded.actionPlans }));
      expect(tablesOf(second, 'organizations').organizations).toEqual(
        counts({ unchanged: seeded.organizations }),
      );
      expect((await row(db.com, 'commitments', 'MO0012')).imported_at).toBe(importedAt);
      expect(await tableCounts(db)).toEqual(before);
    });

    it('serves the imported commitment through the commitments subgraph, with its file and line', async () => {
      const res = await queryCommitments<{
        commitment: { title: string; source: Record<string, unknown>; leadOrganization: { id: string } };
      }>(
        db,
        /* GraphQL */ `
          {
            commitment(id: "MO0012") {
              title
              leadOrganization {
                id
              }
              source {
                dataset
                record
                file
                checksum
                line
                importedAt
              }
            }
          }
        `,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.commitment).toEqual({
        title: records.find((r) => r.id === 'MO0012')!.cells['Commitment Title'],
        leadOrganization: { id: 'inst-ma-directorate-of-budget-ministry-of-economy-and-finance' },
        source: {
          dataset: SOURCES.ogpCommitments.dataset,
          record: 'MO0012',
          file: SEEDED,
          checksum: sha256(REAL),
          line: 2890,
          importedAt,
        },
      });
    });
  });

  describe('files into an empty database', () => {
    let db: Db;
    beforeAll(async () => {
      db = await openDb(backend, 'never');
    });
    afterAll(() => db?.close());

    it('writes nothing on a dry run', async () => {
      const r = await run(db, subset50, { dryRun: true });
      expect(r.outcome).toBe('validated');
      expect(r.rows).toEqual({ read: 50, valid: 50, refused: 0 });
      const all = await tableCounts(db);
      expect(Object.values(all).every((n) => n === 0)).toBe(true);
      expect(await count(db.com, 'import_runs')).toBe(0);
      expect(await count(db.org, 'import_runs')).toBe(0);
    });

    it('loads the first 50 rows of the real export', async () => {
      const r = await run(db, subset50);
      expect(r.outcome).toBe('loaded');
      expect(r.rows).toEqual({ read: 50, valid: 50, refused: 0 });
      const expected = readOgpExport(subset50);
      const plans = new Set(FIRST_50.map((x) => x.cells['Action Plan ID']));
      const members = new Set(FIRST_50.map((x) => x.cells.Code));
      expect([plans.size, members.size]).toEqual([35, 17]);
      const orgIds = new Set(
        expected.rows.flatMap((x) => [
          x.member.id,
          ...x.leads.map((l) => l.id),
          ...x.supporters.map((s) => s.id),
        ]),
      );
      expect(tablesOf(r, 'commitments')).toEqual({
        action_plans: counts({ inserted: plans.size }),
        commitments: counts({ inserted: 50 }),
        commitment_co_lead_organizations: counts({
          inserted: expected.rows.reduce((n, x) => n + Math.max(x.leads.length - 1, 0), 0),
        }),
        commitment_supporting_organizations: counts({
          inserted: expected.rows.reduce((n, x) => n + x.supporters.length, 0),
        }),
        commitment_policy_areas: counts({
          inserted: FIRST_50.reduce(
            (n, x) => n + expected.policyAreaColumns.filter((a) => x.cells[a] === '1').length,
            0,
          ),
        }),
        commitment_ogp_values: counts({
          inserted: expected.rows.reduce((n, x) => n + x.ogpValues.length, 0),
        }),
      });
      expect(tablesOf(r, 'organizations').organizations).toEqual(counts({ inserted: orgIds.size }));
      expect(await count(db.org, 'organizations', 'WHERE ogp_membership_type IS NOT NULL')).toBe(
        members.size,
      );
      const ids = ((await db.com.query('SELECT id FROM commitments')) as { id: string }[])
        .map((x) => x.id)
        .sort();
      expect(ids).toEqual(FIRST_50.map((x) => x.id).sort());
      expect(
        await count(db.com, 'search_documents', "WHERE entity_type = 'Commitment' AND field = 'all'"),
      ).toBe(50);
      const al = await row(db.com, 'commitments', 'AL0002');
      expect(Number(al.source_line)).toBe(2);
      expect(al).toMatchObject({ specificity: 'MEDIUM', potential_impact: 'MODERATE' });
    });

    it('reads reordered columns by name and ignores an unknown column with a warning', async () => {
      const digests = async () =>
        Object.fromEntries(
          (
            (await db.com.query('SELECT id, row_digest AS d FROM commitments')) as { id: string; d: string }[]
          ).map((x) => [x.id, x.d]),
        );
      const before = await digests();
      // Reversed: "_Specificity" (2) now comes before "Specificity" (Medium), which read alike loosely.
      const columns = [...header].reverse();
      const path = writeFile(
        stringify([
          [...columns, 'Internal remarks'],
          ...FIRST_50.map((x) => [...columns.map((c) => x.cells[c]), 'ignore me']),
        ]),
      );
      const r = await run(db, path);
      expect(r.outcome).toBe('loaded');
      expect(r.warnings).toContainEqual({
        file: path,
        line: 1,
        column: 'Internal remarks',
        value: null,
        reason: 'unknown column ignored',
      });
      expect(r.warnings.filter((w) => w.line === 1)).toHaveLength(1);
      // Same content (same digests), now cited from the other file.
      expect(tablesOf(r, 'commitments').commitments).toEqual(counts({ updated: 50 }));
      expect(tablesOf(r, 'commitments').commitment_supporting_organizations.inserted).toBe(0);
      expect(await digests()).toEqual(before);
      expect(await row(db.com, 'commitments', 'AL0002')).toMatchObject({
        specificity: 'MEDIUM',
        potential_impact: 'MODERATE',
        source_file: path,
      });
    });

    it('updates a changed title, searchable by its new word', async () => {
      const target = FIRST_50[1];
      const title = target.cells['Commitment Title'];
      expect(target.text).toContain(title);
      const changed = FIRST_50.map((x) =>
        x === target ? { text: x.text.replace(title, `${title} Quetzalcoatlus`) } : x,
      );
      const path = exportFile(changed);
      const r = await run(db, path);
      expect(r.outcome).toBe('loaded');
      // Every row is now cited from this file; one has new content.
      expect(tablesOf(r, 'commitments').commitments).toEqual(counts({ updated: 50 }));
      expect((await row(db.com, 'commitments', target.id)).title).toBe(`${title} Quetzalcoatlus`);
      const res = await queryCommitments<{
        commitments: { nodes: { id: string; title: string; source: { line: number } }[] };
      }>(
        db,
        /* GraphQL */ `
          query ($q: String!) {
            commitments(filter: { search: $q }) {
              nodes {
                id
                title
                source {
                  line
                }
              }
            }
          }
        `,
        { q: 'quetzalcoatlus' },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.commitments.nodes).toEqual([
        { id: target.id, title: `${title} Quetzalcoatlus`, source: { line: target.line } },
      ]);
    });

    it('reports a row removed from the file as missing, and --prune removes it', async () => {
      // GH0056 is the only row of the first 50 that names 7 of its organizations.
      const gone = FIRST_50.find((x) => x.id === 'GH0056')!;
      const path = exportFile(FIRST_50.filter((x) => x !== gone));
      const onlyGone = (() => {
        const named = (rows: ReturnType<typeof readOgpExport>['rows']) =>
          new Set(
            rows.flatMap((x) => [x.member.id, ...x.leads.map((l) => l.id), ...x.supporters.map((s) => s.id)]),
          );
        const kept = named(readOgpExport(path).rows);
        return [...named(readOgpExport(subset50).rows)].filter((id) => !kept.has(id));
      })();
      const r = await run(db, path);
      expect(partOf(r, 'commitments').missing).toEqual({ count: 1, sample: [gone.id] });
      expect(onlyGone).toHaveLength(7);
      expect(partOf(r, 'organizations').missing!.count).toBe(7);
      expect(await count(db.com, 'commitments')).toBe(50);

      const orgsBefore = await count(db.org, 'organizations');
      const pruned = await run(db, path, { prune: true });
      expect(pruned.outcome).toBe('loaded');
      expect(partOf(pruned, 'commitments').pruned).toBeGreaterThanOrEqual(1);
      expect(tablesOf(pruned, 'commitments').commitments).toEqual(counts({ unchanged: 49, deleted: 1 }));
      expect(await count(db.com, 'commitments')).toBe(49);
      expect(await count(db.com, 'commitments', 'WHERE id = ?', [gone.id])).toBe(0);
      for (const t of COM_TABLES.slice(2))
        expect(await count(db.com, t, 'WHERE commitment_id = ?', [gone.id])).toBe(0);
      expect(await count(db.com, 'search_documents', 'WHERE entity_id = ?', [gone.id])).toBe(0);
      // Its plan stays while other commitments are in it.
      const plan = gone.cells['Action Plan ID'];
      const others = FIRST_50.some((x) => x !== gone && x.cells['Action Plan ID'] === plan);
      expect(await count(db.com, 'action_plans', 'WHERE id = ?', [plan])).toBe(others ? 1 : 0);
      // Organizations are reported, never pruned.
      expect(await count(db.org, 'organizations')).toBe(orgsBefore);
      expect(pruned.warnings).toContainEqual(
        expect.objectContaining({ reason: expect.stringContaining('--prune does not remove organizations') }),
      );
      const again = await run(db, path);
      expect(partOf(again, 'commitments').missing).toEqual({ count: 0, sample: [] });
    });

    it('refuses an empty file, a header alone, and a file without a required column, writing nothing', async () => {
      const before = await tableCounts(db);
      const noTitle = header.filter((h) => h !== 'Commitment Title');
      const cases: [string, string | Buffer, string][] = [
        ['empty', Buffer.alloc(0), 'the file is empty'],
        ['header only', `${realLines[0]}\n`, 'the file has a header but no rows'],
        [
          'no title column',
          stringify([noTitle, ...FIRST_50.slice(0, 3).map((x) => noTitle.map((c) => x.cells[c]))]),
          'missing required column "Commitment Title"',
        ],
      ];
      for (const [what, content, reason] of cases) {
        const r = await run(db, writeFile(content));
        expect([what, r.outcome]).toEqual([what, 'refused']);
        expect(r.refused).toHaveLength(1);
        expect(r.refused[0].reason).toContain(reason);
      }
      expect(await tableCounts(db)).toEqual(before);
    });
  });

  describe('a file with bad rows', () => {
    let db: Db;
    beforeAll(async () => {
      db = await openDb(backend, 'never');
    });
    afterAll(() => db?.close());

    // MO0012's cells (its full text on one line) with some replaced; every cell quoted.
    const base: Record<string, string> = {
      ...records.find((r) => r.id === 'MO0012')!.cells,
      'Full Text': 'Budget transparency.',
    };
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const line = (cells: Record<string, string>) =>
      header.map((h) => quote(h in cells ? cells[h] : base[h])).join(',');
    const badFile = (withLast = true) =>
      writeFile(
        Buffer.concat([
          Buffer.from(
            [
              header.map(quote).join(','),
              line({ [ID]: 'T0001' }), // 2
              line({ [ID]: '' }), // 3: no identifier
              line({ [ID]: 'T0003', Code: 'ZZZ', 'Country/Locality': 'Atlantis' }), // 4: unknown country
              line({ [ID]: 'T0001' }), // 5: duplicate
              line({ [ID]: 'T0005' }).replace(quote(base['Short Title']), '"Budget "Transparency" Law"'), // 6
              '',
            ].join('\r\n'),
          ),
          // 7: a title with a Windows-1252 byte (é).
          ...line({ [ID]: 'T0006', 'Commitment Title': 'Transparence budg@taire' })
            .split('@')
            .flatMap((part, i) => (i ? [Buffer.from([0xe9]), Buffer.from(part)] : [Buffer.from(part)])),
          Buffer.from(
            [
              '',
              line({
                [ID]: 'T0007',
                'Start Date': 'Sometime',
                Specificity: 'Very high',
                'Year Of Submission': '20x8',
              }), // 8: loaded, with warnings
              line({ [ID]: 'T0008', 'Commitment Title': 'NA' }), // 9: no title
              ...(withLast ? [line({ [ID]: 'T0009' })] : []), // 10
              '',
            ].join('\r\n'),
          ),
        ]),
      );

    const expectedRefused = (file: string) => [
      { file, line: 3, column: ID, value: '', reason: `no "${ID}"` },
      {
        file,
        line: 4,
        column: 'Code',
        value: 'ZZZ',
        reason: 'member Code "ZZZ" is not an ISO 3166-1 alpha-3 code',
      },
      { file, line: 5, column: null, value: 'T0001', reason: 'duplicate key: the same record as line 2' },
      {
        file,
        line: 6,
        column: null,
        value: expect.any(String),
        reason: expect.stringMatching(/^broken quoting/),
      },
      {
        file,
        line: 7,
        column: 'Commitment Title',
        value: expect.stringContaining('Transparence budg'),
        reason: expect.stringContaining('not valid UTF-8'),
      },
      { file, line: 9, column: 'Commitment Title', value: 'NA', reason: 'no "Commitment Title"' },
    ];

    it('loads nothing with --strict', async () => {
      const path = badFile();
      const r = await run(db, path, { strict: true, batchSize: 1 });
      expect(r.outcome).toBe('refused');
      expect([...r.refused].sort((a, b) => a.line! - b.line!)).toEqual(expectedRefused(path));
      expect(await count(db.com, 'commitments')).toBe(0);
      expect(await count(db.org, 'organizations')).toBe(0);
    });

    it('loads the valid rows and reports each refused one once, with line, column, value and reason', async () => {
      const path = badFile();
      // One row per batch: the duplicate's first row is in an earlier batch.
      const r = await run(db, path, { batchSize: 1 });
      expect(r.outcome).toBe('loaded-with-refusals');
      // Rows the CSV reader refuses (broken quoting, encoding) are not among those "read" by the parts.
      expect(r.rows).toMatchObject({ valid: 3, refused: 6 });
      expect([...r.refused].sort((a, b) => a.line! - b.line!)).toEqual(expectedRefused(path));
      const ids = ((await db.com.query('SELECT id FROM commitments ORDER BY id')) as { id: string }[]).map(
        (x) => x.id,
      );
      expect(ids).toEqual(['T0001', 'T0007', 'T0009']);
      expect(await row(db.com, 'commitments', 'T0007')).toMatchObject({
        start_date: null,
        start_date_text: 'Sometime',
        specificity: null,
      });
      expect(await row(db.com, 'action_plans', 'AP_MAR01')).toMatchObject({
        start_year: 2018,
        source_line: 2,
      });
      for (const [column, value] of [
        ['Start Date', 'Sometime'],
        ['Specificity', 'Very high'],
        ['Year Of Submission', '20x8'],
      ])
        expect(r.warnings).toContainEqual(expect.objectContaining({ line: 8, column, value }));
      // The plan's rows disagree on its year (line 8): the first row's is kept, with a warning.
      expect(r.warnings).toContainEqual(
        expect.objectContaining({
          line: 8,
          column: 'Year Of Submission',
          reason: expect.stringContaining('kept 2018'),
        }),
      );
      // Only members and institutions of the valid rows.
      expect(await count(db.org, 'organizations', "WHERE id = 'gov-ma'")).toBe(1);
    });

    it('prunes nothing while a refused row has no readable identifier', async () => {
      const r = await run(db, badFile(false), { prune: true });
      expect(partOf(r, 'commitments').missing).toEqual({ count: 1, sample: ['T0009'] });
      expect(partOf(r, 'commitments').pruned).toBe(0);
      expect(await count(db.com, 'commitments', "WHERE id = 'T0009'")).toBe(1);
      expect(r.warnings).toContainEqual(
        expect.objectContaining({
          line: null,
          reason: expect.stringMatching(/^--prune removed nothing: 3 refused rows/),
        }),
      );
    });

    it('says so in the summary and exit status of the CLI', async () => {
      const path = badFile();
      const out = await cli(db, [KIND, path, '--quiet']);
      expect(out.code).toBe(2);
      expect(out.stdout).toContain('loaded-with-refusals');
      expect(out.stdout).toContain(`${path}:3 ${ID} = "": no "${ID}"`);
      expect(out.stdout).toContain(
        `${path}:4 Code = "ZZZ": member Code "ZZZ" is not an ISO 3166-1 alpha-3 code`,
      );
      expect(out.stdout.match(/:5 = "T0001": duplicate key/g)).toHaveLength(1);
    });
  });

  it('resumes a killed run after its last committed batch', async () => {
    const db = await openDb(backend, 'never');
    try {
      // Node itself (not the tsx wrapper, whose child would live on): the kill stops the import.
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'scripts/import.ts'), KIND, REAL, '--quiet', '--batch-size', '10'],
        { env: cliEnv(db), cwd: ROOT, stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => child.on('close', resolve));
      // Kill it once the commitments part has committed a batch, long before its last one.
      for (let i = 0; i < 600; i++) {
        const runs: { l: number | string }[] = await db.com
          .query("SELECT committed_line AS l FROM import_runs WHERE importer = 'ogp-commitments'")
          .catch(() => []);
        if (runs.some((x) => Number(x.l) > 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await exited;
      const partial = await count(db.com, 'commitments');
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(558);
      const r = await run(db, REAL, { batchSize: 10 });
      expect(r.outcome).toBe('loaded');
      const resumed = partOf(r, 'commitments');
      expect(resumed.resumedAfterLine).toBeGreaterThan(1);
      expect(resumed.tables.commitments.inserted).toBe(558 - partial);
      expect(await count(db.com, 'commitments')).toBe(558);

      // The same content, row for row in every table, as one uninterrupted import of the file: only when
      // each row was written (imported_at) and the log of runs (import_runs) may differ.
      const clean = await openDb(backend, 'never');
      try {
        expect((await run(clean, REAL)).outcome).toBe('loaded');
        const all = async (d: Db) => {
          const out: Record<string, Record<string, unknown>[]> = {};
          for (const [name, ds] of [
            ['organizations', d.org],
            ['commitments', d.com],
          ] as const)
            for (const [t, rows] of Object.entries(
              await tableContents(ds, { skipTables: ['import_runs'], skipColumns: ['imported_at'] }),
            ))
              out[`${name}.${t}`] = rows;
          return out;
        };
        const [got, want] = [await all(db), await all(clean)];
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(want['commitments.commitments']).toHaveLength(558);
        for (const table of Object.keys(want))
          expect({ table, rows: got[table] }).toEqual({ table, rows: want[table] });
      } finally {
        await clean.close();
      }
    } finally {
      await db.close();
    }
  });
});

/** The environment the CLI needs to use these databases. */
