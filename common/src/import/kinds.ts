import type { ImporterPart } from './pipeline';

/** A kind-specific option of `npm run import` (e.g. --municipality), documented in `--help`. */
export interface ImportParam {
  name: string;
  description: string;
  /** An option that takes no value (`--dedupe`): the part sees "true" when it is given. */
  flag?: boolean;
}

/**
 * What a subgraph offers `npm run import` for one kind: its part of the import, built from the kind's
 * options. A kind may have parts in several subgraphs (the OGP export feeds organizations and commitments);
 * they run in the catalog's order (subgraphs/catalog.ts), each through its own subgraph's data source.
 */
export interface SubgraphImporter {
  kind: string;
  description: string;
  params?: readonly ImportParam[];
  /** Builds the part; throws an Error naming the option when an option is wrong. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  part(params: Readonly<Record<string, string | undefined>>): ImporterPart<any, any>;
}
