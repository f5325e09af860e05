import { listFirst } from '@civic/common/pagination';
import type { ProvenanceResolvers } from '../generated/resolvers-types';

/** A record's provenance, built whole by `toProvenance`: only its adjustments take an argument (`first`). */
export const Provenance: ProvenanceResolvers = {
  adjustments: (p, args, _, info) => p.adjustments.slice(0, listFirst(args.first, info)),
};
