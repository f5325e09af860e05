import { userInfo } from 'node:os';
import { subgraphSdl } from '@civic/common/schema';
import { signedHeaders } from '@civic/common/signing';
import { SUBGRAPH_NAMES } from '@civic/subgraphs/catalog';
import { checkRemoval, checkSubgraph, type CheckResult, type Problem, type SubgraphSdl } from './check';
import { sha256, SUBGRAPH_NAME, type RegistryEntry, type RegistryStore } from './store';

/*
 * The schema registry's operations, shared by `npm run subgraph:*` (scripts/subgraph.ts) and the tests.
 *
 * Our own subgraphs ("core") are part of every composition but never stored: their SDL is the running code's
 * schema/<name>.graphql and their URL the configured one, so a deploy of new core code is what changes them,
 * and `npm run compose` keeps composing exactly the checked-in supergraph. The store holds partners only.
 */

/** Our own subgraphs as composition sees them: SDL from schema/, URLs from config. */
export function coreSubgraphs(urls: Readonly<Record<string, string>>): SubgraphSdl[] {
  return SUBGRAPH_NAMES.map((name) => ({ name, url: urls[name], sdl: subgraphSdl(name) }));
}

export const isCore = (name: string) => (SUBGRAPH_NAMES as readonly string[]).includes(name);

const asSubgraph = (e: RegistryEntry): SubgraphSdl => ({ name: e.name, url: e.url, sdl: e.sdl });

/** Where the registry's operations read and write, and where our own subgraphs are. */
export interface RegistryContext {
  store: RegistryStore;
  coreUrls: Readonly<Record<string, string>>;
}

/** A candidate version of a partner subgraph, as `subgraph:check` and `subgraph:publish` are given it. */
export interface Candidate {
  name: string;
  url: string;
  sdl: string;
  /** Publish only; when absent, the current version's. */
  owner?: string;
  /** Publish only; when absent, the current version's (null: the gateway's default). */
  timeoutMs?: number;
}

/** What `check`, `publish` and `remove` report (also the `--json` output). */
export interface RegistryReport extends CheckResult {
  name: string;
  /**
   * `refused`: problems; `ok`: a check that passed; `unchanged`: the same SDL, URL, owner and timeout as the
   * current version; `published` and `removed`: done.
   */
  outcome: 'refused' | 'ok' | 'unchanged' | 'published' | 'removed';
  /** The version now current (publish) or the one a check compared with. */
  version?: number;
}

/** Why a command line cannot be run at all (exit status 64), as opposed to a refused change (1). */
export class UsageError extends Error {}

/** Refuses a name that is not a partner subgraph's name. */
export function validateName(name: string): void {
  if (!SUBGRAPH_NAME.test(name)) {
    throw new UsageError(
      `--name "${name}": expected a lower-case name of letters, digits and "-", starting with a letter (at most 63), e.g. city-indicators`,
    );
  }
}

/** Refuses a routing URL the gateway cannot call. */
export function validateUrl(url: string): void {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(
      `--url "${url}": expected an http:// or https:// URL, e.g. http://localhost:4100/graphql`,
    );
  }
}

const coreRefusal = (name: string): Problem => ({
  kind: 'ownership',
  owner: name,
  message: `${name} is one of Civic Graph's own subgraphs: it changes with the code (schema/${name}.graphql), not through the registry.`,
});

/**
 * Reads a running subgraph's SDL the way federation tools do, `{ _service { sdl } }`, signed for that
 * subgraph like every call the project sends to one (SUBGRAPH_SECRET_<NAME>).
 */
export async function fetchSdl(name: string, url: string, timeoutMs = 10_000): Promise<string> {
  const body = JSON.stringify({ query: /* GraphQL */ '{ _service { sdl } }' });
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(name, body) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const why =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new Error(`Could not reach ${name} at ${url} to read its SDL ({ _service { sdl } }): ${why}`);
  }
  const text = await res.text();
  let json: { data?: { _service?: { sdl?: string } }; errors?: { message: string }[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const sdl = json?.data?._service?.sdl;
  if (!res.ok || typeof sdl !== 'string') {
    const why = json?.errors?.map((e) => e.message).join('; ') || text.slice(0, 200);
    throw new Error(
      `${name} at ${url} did not return its SDL for { _service { sdl } } (HTTP ${res.status}): ${why}. ` +
        'Is it a federation subgraph (built with buildSubgraphSchema or an equivalent)? Or give --schema <file>.',
    );
  }
  return sdl;
}

/** What is served now: our subgraphs, then the registry's partners by name. */
async function currentSubgraphs(
  ctx: RegistryContext,
): Promise<{ entries: RegistryEntry[]; current: SubgraphSdl[] }> {
  const entries = await ctx.store.list();
  return { entries, current: [...coreSubgraphs(ctx.coreUrls), ...entries.map(asSubgraph)] };
}

function evaluate(
  candidate: Candidate,
  entries: RegistryEntry[],
  current: SubgraphSdl[],
  allowBreaking: boolean,
): { report: RegistryReport; previous?: RegistryEntry } {
  const previous = entries.find((e) => e.name === candidate.name);
  if (isCore(candidate.name)) {
    return {
      report: {
        name: candidate.name,
        outcome: 'refused',
        ok: false,
        problems: [coreRefusal(candidate.name)],
        warnings: [],
      },
    };
  }
  const result = checkSubgraph({ current, candidate, allowBreaking });
  if (previous?.owner && candidate.owner && candidate.owner !== previous.owner) {
    result.ok = false;
    result.problems.unshift({
      kind: 'ownership',
      owner: previous.owner,
      message: `${candidate.name} is registered to ${previous.owner}, not ${candidate.owner}: only its owner publishes it (or remove it first).`,
    });
  }
  const same =
    previous !== undefined &&
    previous.sdlHash === sha256(candidate.sdl) &&
    previous.url === candidate.url &&
    (candidate.owner === undefined || candidate.owner === previous.owner) &&
    (candidate.timeoutMs === undefined || candidate.timeoutMs === previous.timeoutMs);
  const outcome = !result.ok ? 'refused' : same ? 'unchanged' : 'ok';
  return { report: { name: candidate.name, ...result, outcome, version: previous?.version }, previous };
}

/** `subgraph:check`: may this version be published? Nothing is written. */
export async function checkCandidate(
  ctx: RegistryContext,
  candidate: Candidate,
  opts: { allowBreaking?: boolean } = {},
): Promise<RegistryReport> {
  const { entries, current } = await currentSubgraphs(ctx);
  return evaluate(candidate, entries, current, opts.allowBreaking ?? false).report;
}

/**
 * `subgraph:publish`: the same check, then the new version recorded, all under the registry's lock so that
 * two publishers cannot each pass a check against a state the other is changing. The same SDL, URL, owner
 * and timeout as the current version records nothing (`unchanged`).
 */
export async function publish(
  ctx: RegistryContext,
  candidate: Candidate,
  opts: { allowBreaking?: boolean; publishedBy?: string } = {},
): Promise<RegistryReport> {
  return ctx.store.withLock(async () => {
    const { entries, current } = await currentSubgraphs(ctx);
    const { report, previous } = evaluate(candidate, entries, current, opts.allowBreaking ?? false);
    if (report.outcome !== 'ok') return report;
    const entry = await ctx.store.put({
      name: candidate.name,
      url: candidate.url,
      sdl: candidate.sdl,
      owner: candidate.owner ?? previous?.owner ?? null,
      timeoutMs: candidate.timeoutMs ?? previous?.timeoutMs ?? null,
      publishedAt: new Date().toISOString(),
      publishedBy: opts.publishedBy ?? publisher(),
    });
    return { ...report, outcome: 'published', version: entry.version };
  });
}

/**
 * `subgraph:remove`: refuses our own subgraphs and a removal after which the rest no longer composes (another
 * partner extends this one's types); otherwise removes it and reports, as warnings, the fields that disappear.
 */
export async function removeSubgraph(ctx: RegistryContext, name: string): Promise<RegistryReport> {
  if (isCore(name))
    return { name, outcome: 'refused', ok: false, problems: [coreRefusal(name)], warnings: [] };
  return ctx.store.withLock(async () => {
    const { entries, current } = await currentSubgraphs(ctx);
    const entry = entries.find((e) => e.name === name);
    if (!entry) {
      const known = entries.map((e) => e.name);
      return {
        name,
        outcome: 'refused',
        ok: false,
        warnings: [],
        problems: [
          {
            kind: 'ownership',
            message: `No partner subgraph named ${name} in the registry (${known.length ? `registered: ${known.join(', ')}` : 'it has none'}).`,
          },
        ],
      };
    }
    const result = checkRemoval({ current, name });
    if (!result.ok) return { name, ...result, outcome: 'refused', version: entry.version };
    await ctx.store.remove(name);
    return { name, ...result, outcome: 'removed', version: entry.version };
  });
}

/** One line of `subgraph:list`. */
export interface ListedSubgraph {
  name: string;
  url: string;
  /** A partner's version number; `core` for ours. */
  version: number | 'core';
  publishedAt: string | null;
  owner: string;
  timeoutMs: number | null;
}

/** `subgraph:list`: ours (URLs from config), then every partner with its current version. */
export async function listSubgraphs(ctx: RegistryContext): Promise<ListedSubgraph[]> {
  const core: ListedSubgraph[] = SUBGRAPH_NAMES.map((name) => ({
    name,
    url: ctx.coreUrls[name],
    version: 'core',
    publishedAt: null,
    owner: 'civic-graph',
    timeoutMs: null,
  }));
  const partners = (await ctx.store.list()).map((e) => ({
    name: e.name,
    url: e.url,
    version: e.version,
    publishedAt: e.publishedAt,
    owner: e.owner ?? '',
    timeoutMs: e.timeoutMs,
  }));
  return [...core, ...partners];
}

/** Who publishes: CI's actor when there is one, else the operating-system user. */
function publisher(): string | null {
  if (process.env.GITHUB_ACTOR) return process.env.GITHUB_ACTOR;
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}
