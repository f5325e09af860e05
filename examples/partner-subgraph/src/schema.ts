import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { INDICATOR_KINDS, indicatorsOf, latestIndicatorOf, type CityIndicatorKind } from './data';

/** The SDL, read next to this package (never from the working directory): schema.graphql is the source. */
export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** What the gateway hands over for an `Organization`: its key. */
interface OrganizationRef {
  id: string;
}

/**
 * The resolvers. The data lives in memory (src/data.ts), so there is no query to batch: a subgraph with a
 * database would load the indicators of all the organizations of one `_entities` call in one query.
 */
export const resolvers = {
  Query: {
    indicatorKinds: () =>
      INDICATOR_KINDS.map(({ kind, label, unit, description }) => ({ kind, label, unit, description })),
  },
  Organization: {
    // Any id is accepted: an organization this subgraph knows nothing about simply has no indicators.
    __resolveReference: (ref: OrganizationRef): OrganizationRef => ({ id: ref.id }),
    indicators: (org: OrganizationRef, args: { year?: number | null }) => indicatorsOf(org.id, args.year),
    latestIndicator: (org: OrganizationRef, args: { kind: CityIndicatorKind }) =>
      latestIndicatorOf(org.id, args.kind),
  },
};

/** The executable subgraph schema (with `_service` and `_entities`), built by @apollo/subgraph. */
export const schema = buildSubgraphSchema({ typeDefs, resolvers });
