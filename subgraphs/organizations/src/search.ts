import type { EntityManager } from 'typeorm';
import { LANGUAGES, localizedFields, type Language } from '@civic/common/localized';
import { entityDocuments, indexDocuments, type SearchDocumentInput } from '@civic/common/search';
import type { Organization } from './entities/Organization';

/*
 * What this subgraph indexes for full-text search (common/src/search/), and how its lists search it.
 * Indexing (the seed, the importers, the migration's backfill) and highlighting read the same fields, so an
 * organization found by a search always has a highlight.
 */

/** The `entity_type` of organizations in `search_documents`. */
export const ORGANIZATION_SEARCH_TYPE = 'Organization';

/**
 * The searchable text of an organization by field: its name in each language (`nameFr`...), in the given
 * language order (then the others), which is the order its highlights come in.
 */
export const organizationSearchText = (
  o: Organization,
  languages: readonly Language[] = LANGUAGES,
): Record<string, string | null> => localizedFields(o, 'name', languages);

/** What an organization contributes to the search index (every name, so a cleared one leaves the index). */
export const organizationSearchDocuments = (orgs: readonly Organization[]): SearchDocumentInput[] =>
  entityDocuments(ORGANIZATION_SEARCH_TYPE, orgs, (o) => organizationSearchText(o));

/**
 * (Re)indexes organizations' names, in the caller's transaction when there is one, so the index never
 * disagrees with the rows written beside it.
 */
export const indexOrganizations = (m: EntityManager, orgs: readonly Organization[]) =>
  indexDocuments(m, organizationSearchDocuments(orgs));
