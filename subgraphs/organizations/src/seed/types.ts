import type { SeedReport } from '../../../../common/src/seed';
import type { Organization } from '../entities/Organization';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';

/**
 * What one dataset contributes to the organizations subgraph. Builders are pure (they read files, never
 * the database); the seed merges their output by id and writes it in one transaction.
 * When two builders yield the same id, the later one's non-null fields fill in the earlier record
 * (e.g. the OGP Local file adds ogpMembership to the municipality of El Kef from the municipalities file).
 */
export interface OrganizationSeed {
  organizations: Organization[];
  identifiers: OrganizationIdentifier[];
  report: SeedReport;
}

/** Wraps a builder's rows with its report, counting what it loads. */
export function organizationSeed(
  report: SeedReport,
  organizations: Organization[],
  identifiers: OrganizationIdentifier[],
): OrganizationSeed {
  report.loaded = { organizations: organizations.length, organization_identifiers: identifiers.length };
  return { organizations, identifiers, report };
}
