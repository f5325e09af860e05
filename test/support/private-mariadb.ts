import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';

/*
 * A MariaDB server of a test's own: its own data directory under /tmp, a spare port on 127.0.0.1, started and
 * stopped (and restarted, as often as the test likes) by the test; never the machine's MariaDB on 3306. For
 * replication (a primary with its binary log, a replica following it) and for faults (the database restarted
 * under load). Root, no password, over TCP.
 */

/** Where mariadbd and mariadb-install-db are, or undefined when this machine has no MariaDB server. */
export function mariadbBinaries(): { server: string; install: string } | undefined {
  const find = (name: string, dirs: string[]) =>
    dirs.map((d) => join(d, name)).find((p) => existsSync(p)) ??
    (spawnSync('which', [name], { encoding: 'utf8' }).stdout.trim() || undefined);
  const server = find('mariadbd', ['/usr/sbin', '/usr/local/sbin', '/usr/bin']);
  const install = find('mariadb-install-db', ['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  return server && install ? { server, install } : undefined;
}

/**
 * Whether this file's private-MariaDB tests run: yes when mariadbd is found. Without it they are skipped with a
 * message saying so, except under CI=true, where a missing mariadbd is a failure (throws).
 */
export function privateMariadbAvailable(file: string): boolean {
  if (mariadbBinaries()) return true;
  const message = `${file}: mariadbd or mariadb-install-db not found, the private MariaDB tests are skipped`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${message} (install mariadb-server)`);
  console.warn(message);
  return false;
}

export interface PrivateMariadbOptions {
  /** Its server id (replication needs them distinct). Default 1. */
  serverId?: number;
  /** Keep a binary log (a primary others replicate from). Default false. */
  logBin?: boolean;
}

/** One private MariaDB server. */
export interface PrivateMariadb {
  readonly port: number;
  /** `mysql://root@127.0.0.1:<port>`: what a storage's URL or a replica's URL is. */
  readonly url: string;
  readonly dataDir: string;
  /** Whether its process is running. */
  readonly running: boolean;
  /** Starts it again (after `stop` or `kill`) on the same port and data; resolves once it answers. */
  start(): Promise<void>;
  /** A clean shutdown (SIGTERM); resolves once the process has exited. */
  stop(): Promise<void>;
  /** A crash (SIGKILL); resolves once the process has exited. */
  kill(): Promise<void>;
  /** A connection to it as root, on no database. */
  connect(): Promise<Connection>;
  /** Stops it (if running) and removes its data directory. */
  destroy(): Promise<void>;
}

/** A port nobody listens on now (asked of the kernel; free again at once, so a small race remains). */
async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Creates a data directory and starts a MariaDB server on it; resolves once it answers. */
export async function startPrivateMariadb(opts: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const bin = mariadbBinaries();
  if (!bin) throw new Error('mariadbd not found: see privateMariadbAvailable');
  const dataDir = mkdtempSync(join(tmpdir(), 'civic-mariadb-'));
  const install = spawnSync(
    bin.install,
    [
      '--no-defaults',
      `--datadir=${join(dataDir, 'data')}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
  }
  // Its own temporary directory: a MariaDB server deletes every `#sql*` file in its tmpdir when it starts, and
  // the default tmpdir (/tmp) is the machine's MariaDB's too; a private server (re)started while the machine's
  // runs a query with an on-disk temporary table made that query fail ("Error on delete of
  // '/tmp/#sql-temptable-….MAI' (Errcode: 2)"), seen in CI beside db-restart.test.ts.
  mkdirSync(join(dataDir, 'tmp'));
  const port = await sparePort();
  const url = `mysql://root@127.0.0.1:${port}`;
  const args = [
    '--no-defaults',
    `--datadir=${join(dataDir, 'data')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dataDir, 'mysqld.sock')}`,
    `--pid-file=${join(dataDir, 'mysqld.pid')}`,
    `--log-error=${join(dataDir, 'error.log')}`,
    `--tmpdir=${join(dataDir, 'tmp')}`,
    '--user=root',
    `--server-id=${opts.serverId ?? 1}`,
    ...(opts.logBin ? [`--log-bin=${join(dataDir, 'binlog')}`, '--binlog-format=ROW'] : []),
    // Small: a test server, several of which may run beside the machine's own.
    '--innodb-buffer-pool-size=32M',
    '--innodb-log-file-size=16M',
    '--max-connections=200',
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const connect = () =>
    createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 2000 });

  const start = async () => {
    if (child) return;
    const proc = spawn(bin.server, args, { stdio: 'ignore' });
    child = proc;
    exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        if (child === proc) child = undefined;
        resolve();
      }),
    );
    const until = Date.now() + 30_000;
    for (;;) {
      if (child !== proc) {
        throw new Error(`mariadbd exited at start: ${tail(join(dataDir, 'error.log'))}`);
      }
      try {
        const conn = await connect();
        await conn.end();
        return;
      } catch {
        if (Date.now() > until)
          throw new Error(`mariadbd did not answer in 30 s: ${tail(join(dataDir, 'error.log'))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const signal = async (sig: NodeJS.Signals) => {
    const proc = child;
    if (!proc) return;
    const done = exited;
    proc.kill(sig);
    await done;
  };
  const server: PrivateMariadb = {
    port,
    url,
    dataDir,
    get running() {
      return child !== undefined;
    },
    start,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    connect,
    destroy: async () => {
      await signal('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

/** The last lines of a server's error log, for a failure message. */
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no error log)';
  }
}

/**
 * Makes `replica` follow `primary` from the start of its binary log (both fresh: everything the primary has
 * written since it was created is replayed), and waits until it does.
 */
export async function replicate(primary: PrivateMariadb, replica: PrivateMariadb): Promise<void> {
  const conn = await replica.connect();
  try {
    await conn.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='root', ` +
        "MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
    );
    await conn.query('START SLAVE');
  } finally {
    await conn.end();
  }
  await caughtUp(primary, replica);
}

/** Waits until `replica` has applied everything `primary` has written so far (its GTID position). */
export async function caughtUp(
  primary: PrivateMariadb,
  replica: PrivateMariadb,
  timeoutMs = 20_000,
): Promise<void> {
  const p = await primary.connect();
  let gtid: string;
  try {
    const [rows] = await p.query('SELECT @@gtid_binlog_pos AS pos');
    gtid = String((rows as { pos: string }[])[0].pos);
  } finally {
    await p.end();
  }
  const r = await replica.connect();
  try {
    const [rows] = await r.query('SELECT MASTER_GTID_WAIT(?, ?) AS waited', [gtid, timeoutMs / 1000]);
    const waited = Number((rows as { waited: number }[])[0].waited);
    if (waited !== 0) throw new Error(`the replica did not reach ${gtid} within ${timeoutMs} ms`);
  } finally {
    await r.end();
  }
}
