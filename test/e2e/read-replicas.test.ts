import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import type { Service } from '@civic/common/service';
import { loadConfig, MODULES } from '@civic/subgraphs';
import {
  caughtUp,
  privateMariadbAvailable,
  replicate,
  startPrivateMariadb,
  type PrivateMariadb,
} from '../support/private-mariadb';

/*
 * Issue 12: MySQL read replicas (<SUBGRAPH>_DATABASE_REPLICA_URLS) through TypeORM's replication. A private
 * MariaDB primary (binary log) and two replicas following it, each on a spare port with its own data directory
 * under /tmp (test/support/private-mariadb.ts); the organizations subgraph on them. Which server a statement
 * reached is read from the servers themselves: their Com_select counters, and a row changed on the primary while
 * the replicas do not follow it.
 */

const run = privateMariadbAvailable('read-replicas.test.ts');

describe('config: <SUBGRAPH>_DATABASE_REPLICA_URLS', () => {
  test('comma-separated mysql:// URLs, the database the primary names', () => {
    const config = loadConfig({
      ORGANIZATIONS_DATABASE_URL: 'mysql://app:pw@primary:3306/orgs',
      ORGANIZATIONS_DATABASE_REPLICA_URLS: ' mysql://ro@replica-1:3306 , mysql://ro@replica-2:3307,',
    });
    expect(config.storage.organizations).toEqual({
      type: 'mysql',
      url: 'mysql://app:pw@primary:3306/orgs',
      database: 'orgs',
      replicas: ['mysql://ro@replica-1:3306', 'mysql://ro@replica-2:3307'],
    });
    // The others have none, and say nothing about replicas.
    expect(loadConfig({ DATABASE_URL: 'mysql://root@db' }).storage.budgets).toEqual({
      type: 'mysql',
      url: 'mysql://root@db',
      database: 'civic_budgets',
    });
  });

  test('a URL that is not mysql://, or replicas of a SQLite file, are refused by name', () => {
    expect(() =>
      loadConfig({
        BUDGETS_DATABASE_URL: 'mysql://root@db/b',
        BUDGETS_DATABASE_REPLICA_URLS: 'mysql://root@r1,postgres://r2',
      }),
    ).toThrow(/BUDGETS_DATABASE_REPLICA_URLS: each URL must start with mysql:\/\//);
    expect(() => loadConfig({ BUDGETS_DATABASE_REPLICA_URLS: 'mysql://root@r1' })).toThrow(
      /BUDGETS_DATABASE_REPLICA_URLS: needs BUDGETS_DATABASE_URL or DATABASE_URL/,
    );
  });
});

(run ? describe : describe.skip)(
  'reads on the replicas, everything else on the primary (private MariaDB)',
  () => {
    let primary: PrivateMariadb;
    const replicas: PrivateMariadb[] = [];
    let ds: DataSource;
    let service: Service;
    let url: string;
    let readyUrl: string;

    beforeAll(async () => {
      primary = await startPrivateMariadb({ serverId: 1, logBin: true });
      for (const serverId of [2, 3]) {
        const replica = await startPrivateMariadb({ serverId });
        replicas.push(replica);
        await replicate(primary, replica);
      }
      const storage: StorageConfig = {
        type: 'mysql',
        url: primary.url,
        database: 'civic_organizations',
        replicas: replicas.map((r) => r.url),
      };
      // Created, migrated and seeded through the data source: all of it on the primary, replayed by the replicas.
      ds = await prepareSubgraph(MODULES.organizations, storage, { seed: 'always' });
      for (const r of replicas) await caughtUp(primary, r);
      service = await MODULES.organizations.createService(ds, { closeDataSource: false });
      url = (await service.listen(0, '127.0.0.1')).url;
      readyUrl = url.replace(/\/graphql$/, '/ready');
    });

    afterAll(async () => {
      await service?.stop();
      if (ds?.isInitialized) await ds.destroy();
      for (const s of [...replicas, primary]) await s?.destroy();
    });

    async function post(query: string) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      return { status: res.status, body: (await res.json()) as { data?: any; errors?: unknown[] } };
    }

    /** The SELECTs each server has run so far (SHOW is not one). */
    async function selects(server: PrivateMariadb): Promise<number> {
      const conn = await server.connect();
      try {
        const [rows] = await conn.query("SHOW GLOBAL STATUS LIKE 'Com_select'");
        return Number((rows as { Value: string }[])[0].Value);
      } finally {
        await conn.end();
      }
    }

    async function onEach(servers: PrivateMariadb[], sql: string) {
      for (const s of servers) {
        const conn = await s.connect();
        await conn.query(sql).finally(() => conn.end());
      }
    }

    test('the requests read on the replicas only: the primary runs none of their SELECTs', async () => {
      const before = await Promise.all([primary, ...replicas].map(selects));
      for (let i = 0; i < 6; i++) {
        const answer = await post(
          '{ organizations(first: 5) { nodes { id name classification parent { id } } } }',
        );
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
        expect(answer.body.data.organizations.nodes).toHaveLength(5);
      }
      const after = await Promise.all([primary, ...replicas].map(selects));
      const ran = after.map((n, i) => n - before[i]);
      expect(ran[0]).toBe(0);
      expect(ran[1] + ran[2]).toBeGreaterThanOrEqual(6);
    });

    test("a write through the data source (as an import makes) goes to the primary; requests read the replicas' copy", async () => {
      const [{ id, classification }] = (await ds.query(
        'SELECT id, classification FROM organizations ORDER BY id LIMIT 1',
      )) as { id: string; classification: string | null }[];
      await onEach(replicas, 'STOP SLAVE');
      try {
        await ds.query('UPDATE organizations SET classification = ? WHERE id = ?', [
          'changed on the primary',
          id,
        ]);
        // Outside a request the data source reads the primary: what it wrote.
        const [own] = (await ds.query('SELECT classification FROM organizations WHERE id = ?', [id])) as {
          classification: string;
        }[];
        expect(own.classification).toBe('changed on the primary');
        // A request reads a replica, which has not seen the write yet.
        const stale = await post(`{ organization(id: "${id}") { classification } }`);
        expect(stale.body).toEqual({ data: { organization: { classification } } });
      } finally {
        await onEach(replicas, 'START SLAVE');
      }
      for (const r of replicas) await caughtUp(primary, r);
      const fresh = await post(`{ organization(id: "${id}") { classification } }`);
      expect(fresh.body).toEqual({ data: { organization: { classification: 'changed on the primary' } } });
    });

    test('readiness checks the primary and names the replica that does not answer, by its place in the list', async () => {
      const ready = async () => {
        // One answer a second is reused (READY_CACHE_MS): wait it out.
        await new Promise((r) => setTimeout(r, 1100));
        const res = await fetch(readyUrl);
        return { status: res.status, body: (await res.json()) as { checks: Record<string, unknown> } };
      };
      expect(await ready()).toEqual({
        status: 200,
        body: expect.objectContaining({ checks: { database: { ok: true }, replicas: { ok: true } } }),
      });
      await replicas[1].stop();
      const one = await ready();
      expect(one).toEqual({
        status: 200,
        body: expect.objectContaining({
          checks: {
            database: { ok: true },
            replicas: { ok: true, reason: 'replica 2 of 2 unreachable: reads go to the others' },
          },
        }),
      });
      // Reads still answered, by the other replica.
      const answer = await post('{ organizations(first: 2) { nodes { id } } }');
      expect(answer.body.errors).toBeUndefined();
      await replicas[0].stop();
      const none = await ready();
      expect(none).toEqual({
        status: 503,
        body: expect.objectContaining({
          checks: {
            database: { ok: true },
            replicas: { ok: false, reason: 'replicas 1, 2 of 2 unreachable: reads fail' },
          },
        }),
      });
      expect(JSON.stringify(none.body)).not.toMatch(/127\.0\.0\.1|:\d{4,5}/);
      // With no replica, a request's read fails with a code of its own, naming nothing internal.
      const failed = await post('{ organizations(first: 2) { nodes { id } } }');
      expect(failed.body.errors).toEqual([
        expect.objectContaining({
          message: 'The database is unavailable for the moment: try again shortly',
          extensions: { code: 'DATABASE_UNAVAILABLE' },
        }),
      ]);
      // The primary going away makes the service not ready, whatever the replicas say.
      for (const r of replicas) await r.start();
      await primary.stop();
      const down = await ready();
      expect(down.status).toBe(503);
      expect(down.body.checks.database).toEqual({ ok: false, reason: 'database unreachable' });
      await primary.start();
    });
  },
);
