import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { StatementCounter } from '@civic/common/db';
import type { Service } from '@civic/common/service';
import { secretVariable } from '@civic/common/signing';
import type { ResponseCacheOptions } from '@civic/gateway/cache/response-cache';
import { createGatewayService } from '@civic/gateway/server';
import { MODULES, SUBGRAPH_NAMES as SUBGRAPHS, type SubgraphName } from '@civic/subgraphs';
import { seededStorage } from './templates';

export type Backend = 'sqlite' | 'mysql';

/** The backends this run tests: SQLite always, MySQL when global-setup found it. */
export const BACKENDS: Backend[] = process.env.TEST_MYSQL === '1' ? ['sqlite', 'mysql'] : ['sqlite'];

export { MODULES };

export { freshStorage, seededStorage } from './templates';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** A running system: three subgraphs and the gateway on port 0, over freshly migrated and seeded storage. */
export interface System {
  backend: Backend;
  gatewayUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  dataSources: Record<SubgraphName, DataSource>;
  /** Statements each subgraph has sent to its database. */
  counters: Record<SubgraphName, StatementCounter>;
  queryGateway<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  querySubgraph<T = Record<string, unknown>>(
    name: SubgraphName,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

async function post<T>(url: string, query: string, variables?: Record<string, unknown>, headers = {}) {
  const send = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
  // The keep-alive race, once: a kept-alive connection the server closed as idle just as this request was sent on
  // it (the client's and the server's timers run in this one process, late after a long synchronous step such as
  // SQLite migrations) is reset before any answer; the request never reached the server, so it is sent again.
  const res = await send().catch((err: unknown) => {
    const code = ((err as { cause?: { code?: string } }).cause ?? {}).code;
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return send();
    throw err;
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** Options of {@link startSystem}. */
export interface SystemOptions {
  /**
   * Signing secrets: each subgraph given one answers only signed requests, and the gateway signs its calls to
   * it, reading SUBGRAPH_SECRET_<NAME> as in production (set in this process until `stop()`).
   */
  secrets?: Partial<Record<SubgraphName, string>>;
  /**
   * Put `extensions.cost` in every gateway response, as production does (REPORT_COST, default on); default
   * false here, so that the tests comparing whole responses compare the data and errors, not the cost model's
   * weights (test/e2e/operation-limits.test.ts checks the cost report).
   */
  reportCost?: boolean;
  /**
   * The gateway's response cache; default off here (production's default is memory), so that a test writing
   * data and querying it again never sees an answer cached before its write unless it asks for the cache.
   */
  responseCache?: ResponseCacheOptions;
}

/**
 * Starts the whole system for real, the way `npm start` does but on port 0 and throwaway storage, and
 * returns how to query it and stop it. Every resource it opens is closed by `stop()`.
 */
export async function startSystem(backend: Backend, opts: SystemOptions = {}): Promise<System> {
  // Migrated and seeded already: a copy of this run's template (test/support/templates.ts).
  const { storage, drop } = await seededStorage(backend);
  const services: Service[] = [];
  const counters = {} as Record<SubgraphName, StatementCounter>;
  const dataSources = {} as Record<SubgraphName, DataSource>;
  const subgraphUrls = {} as Record<SubgraphName, string>;
  const secrets = Object.entries(opts.secrets ?? {}).map(([name, secret]) => ({
    variable: secretVariable(name),
    secret,
    before: process.env[secretVariable(name)],
  }));
  for (const { variable, secret } of secrets) process.env[variable] = secret;
  const stop = async () => {
    for (const s of services.reverse()) await s.stop();
    for (const ds of Object.values(dataSources)) if (ds.isInitialized) await ds.destroy();
    await drop();
    for (const { variable, before } of secrets) {
      if (before === undefined) delete process.env[variable];
      else process.env[variable] = before;
    }
  };
  try {
    for (const name of SUBGRAPHS) {
      counters[name] = new StatementCounter();
      const ds = await prepareSubgraph(MODULES[name], storage[name], {
        seed: 'never',
        logger: counters[name],
      });
      dataSources[name] = ds;
      const service = await MODULES[name].createService(ds, {
        closeDataSource: false,
        signatureSecret: opts.secrets?.[name],
      });
      services.push(service);
      subgraphUrls[name] = (await service.listen(0, '127.0.0.1')).url;
    }
    const gateway = await createGatewayService({
      subgraphUrls,
      reportCost: opts.reportCost ?? false,
      responseCache: opts.responseCache,
    });
    services.push(gateway);
    const gatewayUrl = (await gateway.listen(0, '127.0.0.1')).url;
    return {
      backend,
      gatewayUrl,
      subgraphUrls,
      dataSources,
      counters,
      queryGateway: (q, v, h) => post(gatewayUrl, q, v, h),
      querySubgraph: (n, q, v) => post(subgraphUrls[n], q, v),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts one system per backend before a test file's tests and stops them after; returns how to get the
 * one of a backend (for tests that compare backends in one file).
 */
export function systemsPerBackend(): (backend: Backend) => System {
  const systems = new Map<Backend, System>();
  beforeAll(async () => {
    for (const backend of BACKENDS) systems.set(backend, await startSystem(backend));
  });
  afterAll(async () => {
    for (const sys of systems.values()) await sys.stop();
  });
  return (backend) => systems.get(backend)!;
}
