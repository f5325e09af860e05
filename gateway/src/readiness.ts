import type { ApolloGateway } from '@apollo/gateway';
import { withinTime, type ReadyCheck, type ReadyChecks } from '@civic/common/ready';

/**
 * The gateway's readiness (GET /ready): its supergraph is loaded, and each of our own subgraphs answers its own
 * GET /ready (database reachable and migrated). A load balancer then stops sending clients to a gateway whose
 * budgets subgraph has died, where /health would still say "ok".
 *
 * Partner subgraphs are not checked: a partner's outage empties only its own fields (its circuit breaker,
 * gateway/src/subgraph-source.ts), and must not take the public graph out of rotation.
 */
export function gatewayReadiness(
  gateway: ApolloGateway,
  subgraphUrls: Readonly<Record<string, string>>,
): () => Promise<ReadyChecks> {
  let loaded = false;
  gateway.onSchemaLoadOrUpdate(() => void (loaded = true));
  return async () => {
    const entries = await Promise.all(
      Object.entries(subgraphUrls).map(async ([name, url]) => [name, await subgraphReady(url)] as const),
    );
    return {
      supergraph: loaded ? { ok: true } : { ok: false, reason: 'supergraph not loaded yet' },
      ...Object.fromEntries(entries.map(([name, check]) => [`subgraph ${name}`, check])),
    };
  };
}

/** One subgraph's GET /ready, beside its GraphQL endpoint; the reason never names its address. */
function subgraphReady(graphqlUrl: string): Promise<ReadyCheck> {
  const controller = new AbortController();
  const probe = async (): Promise<ReadyCheck> => {
    try {
      const res = await fetch(new URL('/ready', graphqlUrl), {
        signal: controller.signal,
        redirect: 'error',
      });
      if (res.ok) return { ok: true };
      const body = (await res.json().catch(() => null)) as { checks?: Record<string, ReadyCheck> } | null;
      const reasons = Object.entries(body?.checks ?? {})
        .filter(([, c]) => !c.ok)
        .map(([what, c]) => `${what}: ${c.reason ?? 'not ready'}`);
      return { ok: false, reason: reasons.length ? reasons.join('; ') : `not ready (HTTP ${res.status})` };
    } catch {
      return { ok: false, reason: 'unreachable' };
    }
  };
  return withinTime(probe()).finally(() => controller.abort());
}
