import type { EntityManager } from 'typeorm';
import { localizedFields, type Language } from '../../../common/src/localized';
import {
  entityDocuments,
  highlight,
  indexDocuments,
  type ParsedSearch,
  type SearchDocumentInput,
  type SearchHighlight,
} from '../../../common/src/search';
import type { Organization } from './entities/Organization';

/** The `entity_type` of organizations in `search_documents`. */
export const ORGANIZATION_SEARCH_TYPE = 'Organization';

/** What an organization contributes to the search index: its name in each language (`nameFr`...). */
export const organizationSearchDocuments = (orgs: readonly Organization[]): SearchDocumentInput[] =>
  entityDocuments(ORGANIZATION_SEARCH_TYPE, orgs, (o) => localizedFields(o, 'name'));

/**
 * (Re)indexes organizations' names, in the caller's transaction when there is one, so the index never
 * disagrees with the rows written beside it.
 */
export const indexOrganizations = (m: EntityManager, orgs: readonly Organization[]) =>
  indexDocuments(m, organizationSearchDocuments(orgs));

/**
 * The search each listed organization was found by. Keyed by the row objects a list query loads: every
 * request loads its own (loaders included), so one request's search never shows in another's, two searched
 * lists in one operation (aliases) each keep theirs, and an entry goes when its row is collected.
 */
const foundBy = new WeakMap<Organization, ParsedSearch>();

/** Records that these organizations are the results of `search`, for {@link searchHighlights}. */
export function rememberSearch(nodes: readonly Organization[], search: ParsedSearch): void {
  for (const n of nodes) foundBy.set(n, search);
}

/**
 * Why an organization matched the search of the list it came from, its names in the request's language
 * order (then the others); [] when it was not found by a search. Computed from the loaded row: no SQL.
 */
export function searchHighlights(o: Organization, languages: readonly Language[]): SearchHighlight[] {
  const search = foundBy.get(o);
  if (!search) return [];
  return highlight(localizedFields(o, 'name', languages), search);
}
