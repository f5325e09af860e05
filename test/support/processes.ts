import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs/catalog';

/**
 * The services as separate processes on 127.0.0.1, as docker-compose runs them (one per subgraph, one gateway),
 * each on the embedded SQLite storage of one temporary folder (seeded on its first start): what the fault tests
 * and the fault bench kill, stop and restart. Each service is one Node process (`node --import tsx <entry>`, no
 * tsx wrapper), so a signal sent to its pid reaches the server itself.
 */
const ROOT = join(__dirname, '..', '..');

/** How long a service may take to say it is ready (a first start seeds its database). */
const READY_WITHIN_MS = 180_000;

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** The port the service says it bound ("ready at <url>" in its log). */
  readonly ready: Promise<number>;
  /** When the "ready at" line was read (performance.now()), once it was. */
  readyAt(): number | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  alive(): boolean;
}

/** The environment a service starts from: this run's, without any storage, port or URL it may have set. */
function baseEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/(_DATABASE_URL|^DATABASE_URL|_PORT|_URL|^DATA_DIR|^HOST|^SEED_ON_START|^MIGRATE_ON_START|^LOG_LEVEL|^SUBGRAPH_SECRET_.*|^RESPONSE_CACHE.*)$/.test(
          k,
        ),
    ),
  );
}

/** Starts one service's entry module (relative to the repository) as a process of its own. */
export function startServiceProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...baseEnvironment(), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
  }) as ChildProcessWithoutNullStreams;
  let output = '';
  let running = true;
  let readyAt: number | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready within ${READY_WITHIN_MS} ms:\n${output}`)),
      READY_WITHIN_MS,
    );
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{') || readyAt !== undefined) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.url && /ready at http/.test(entry.msg ?? '')) {
            readyAt = performance.now();
            clearTimeout(timer);
            resolve(Number(new URL(entry.url).port));
          }
        } catch {
          // Not a log line of ours.
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  ready.catch(() => undefined);
  return {
    name,
    child,
    ready,
    readyAt: () => readyAt,
    exited,
    output: () => output,
    alive: () => running,
  };
}

/** The three subgraphs and the gateway, each a process, and how to kill, stop and restart a subgraph. */
export interface ProcessSystem {
  readonly gatewayUrl: string;
  readonly ports: Record<SubgraphName, number>;
  readonly services: Record<SubgraphName | 'gateway', ServiceProcess>;
  /** Starts subgraph `name` again on its port and storage (after it was killed); resolves once it listens. */
  restart(name: SubgraphName): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/**
 * Starts the three subgraphs (each on port 0 the first time, on its own SQLite file under a fresh folder) and a
 * gateway pointed at them, with `gatewayEnv` added to the gateway's environment. The gateway's response cache
 * and rate limit are off: a fault test measures what the subgraphs answer, not a cached copy.
 */
export async function startProcessSystem(gatewayEnv: Record<string, string> = {}): Promise<ProcessSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-faults-'));
  const services = {} as Record<SubgraphName | 'gateway', ServiceProcess>;
  const ports = {} as Record<SubgraphName, number>;
  const subgraphEnv = (name: SubgraphName, port: number) => ({
    DATA_DIR: dir,
    SEED_ON_START: 'true',
    [`${name.toUpperCase()}_PORT`]: String(port),
  });
  const entry = (name: SubgraphName) => `subgraphs/${name}/src/index.ts`;
  try {
    // One after the other: seeding three databases at once on two cores only makes each slower.
    for (const name of SUBGRAPH_NAMES) {
      services[name] = startServiceProcess(name, entry(name), subgraphEnv(name, 0));
      ports[name] = await services[name].ready;
    }
    services.gateway = startServiceProcess('gateway', 'gateway/src/index.ts', {
      DATA_DIR: dir,
      GATEWAY_PORT: '0',
      RESPONSE_CACHE: 'off',
      RATE_LIMIT_COST_PER_MINUTE: '0',
      ...Object.fromEntries(
        SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, `http://127.0.0.1:${ports[n]}/graphql`]),
      ),
      ...gatewayEnv,
    });
    const gatewayPort = await services.gateway.ready;
    return {
      gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
      ports,
      services,
      async restart(name) {
        const old = services[name];
        if (old.alive()) throw new Error(`${name} is still running`);
        services[name] = startServiceProcess(name, entry(name), subgraphEnv(name, ports[name]));
        await services[name].ready;
        return services[name];
      },
      stop: () => stopAll(services, dir),
    };
  } catch (err) {
    await stopAll(services, dir);
    throw err;
  }
}

/** Kills every process still running (continuing a stopped one first) and removes the folder. */
async function stopAll(services: Partial<Record<string, ServiceProcess>>, dir: string) {
  const all = Object.values(services).filter((s): s is ServiceProcess => s !== undefined);
  for (const s of all) {
    if (!s.alive()) continue;
    s.child.kill('SIGCONT');
    s.child.kill('SIGTERM');
  }
  await Promise.all(
    all.map((s) =>
      Promise.race([
        s.exited,
        new Promise<void>((r) =>
          setTimeout(() => {
            if (s.alive()) s.child.kill('SIGKILL');
            r();
          }, 10_000).unref(),
        ),
      ]),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
}
