import type { IncomingHttpHeaders } from 'node:http';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { requestContext } from '@civic/common/context';
import { subgraphTypeDefs } from '@civic/common/schema';
import { createService, type Service } from '@civic/common/service';
import type { subgraphSource } from '@civic/gateway/subgraph-source';

/**
 * A test-only subgraph that adds one nullable field to `Organization` and records the headers of every request
 * it gets: for the tests of what the gateway sends a subgraph (allowed headers, signatures) and of how it
 * bounds what a subgraph sends back (a field as large as asked).
 */
export const PROBE_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Organization @key(fields: "id") {
    id: ID!
    "'ok', or a string of 'x' as long as the probe was told to answer."
    probe: String
    "As many small objects as asked."
    probes(count: Int!): [Probe!]
  }

  type Probe {
    n: Int!
  }
`;

export interface ProbeSubgraph {
  url: string;
  port: number;
  /** The headers of every GraphQL request received, in order. */
  requests: IncomingHttpHeaders[];
  /** From now on `probe` answers this many bytes of 'x' (0: "ok"). */
  answerBytes(n: number): void;
  stop(): Promise<void>;
}

/** Starts the probe subgraph on port 0 (or `port`), through the project's own service bootstrap. */
export async function startProbeSubgraph(
  opts: { secret?: string; port?: number } = {},
): Promise<ProbeSubgraph> {
  const requests: IncomingHttpHeaders[] = [];
  let bytes = 0;
  const schema = buildSubgraphSchema({
    typeDefs: parse(PROBE_SDL),
    resolvers: {
      Organization: {
        __resolveReference: (ref: { id: string }) => ref,
        probe: () => (bytes > 0 ? 'x'.repeat(bytes) : 'ok'),
        probes: (_: unknown, { count }: { count: number }) =>
          Array.from({ length: count }, (_v, n) => ({ n })),
      },
    },
  });
  const service: Service = await createService({
    name: 'probe',
    schema,
    signatureSecret: opts.secret,
    context: async (req) => {
      requests.push(req.headers);
      return requestContext(req);
    },
  });
  const { url, port } = await service.listen(opts.port ?? 0, '127.0.0.1');
  return { url, port, requests, answerBytes: (n) => void (bytes = n), stop: () => service.stop() };
}

/**
 * The supergraph of the project's subgraphs (their SDL files) and the extra subgraphs given, composed the way
 * `npm run compose` does; for a gateway that serves a test subgraph beside ours.
 */
export function composeWith(
  coreUrls: Readonly<Record<string, string>>,
  extra: readonly { name: string; url: string; sdl: string }[],
): string {
  const result = composeServices([
    ...Object.entries(coreUrls).map(([name, url]) => ({ name, url, typeDefs: subgraphTypeDefs(name) })),
    ...extra.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  ]);
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`Composition failed:\n${(result.errors ?? []).map((e) => e.message).join('\n')}`);
  }
  return result.supergraphSdl;
}

/**
 * One call through `source` (a gateway data source in front of the probe) as a call of a query plan, with this
 * context: `count` small objects in one entity (`count` + 2 objects in all).
 */
export function probeEntities(source: ReturnType<typeof subgraphSource>, count: number, context: object) {
  return source.process({
    kind: 'health check' as never, // GraphQLDataSourceRequestKind.HEALTH_CHECK, not exported at run time
    request: {
      query: /* GraphQL */ `
        query ($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { probes(count: ${count}) { n } } } }
      `,
      variables: { r: [{ __typename: 'Organization', id: 'tn-municipality-34012' }] },
    },
    context: context as never,
  });
}
