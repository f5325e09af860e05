import type { SubgraphContext } from '@civic/common/subgraph';
import type { CommitmentLoaders } from './loaders';

/**
 * The context of every resolver of this subgraph: the common request context plus this request's own
 * loaders. codegen.ts gives it to the generated resolver types; it sits at the bottom, importing no resolver.
 */
export type Context = SubgraphContext<CommitmentLoaders>;
