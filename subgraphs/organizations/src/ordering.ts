import { bestText, localizedProperty, readLocalized, type Language } from '@civic/common/localized';
import { resolveOrderBy, type OrderTerm, type SortKey } from '@civic/common/ordering';
import type { Organization } from './entities/Organization';
import type { OrganizationOrder } from './generated/resolvers-types';

/** `nameFr`, `nameAr`...: the entity property of a language's name column. */
const nameProperty = (l: Language) => localizedProperty('name', l);

/**
 * The name the `name` field shows (without `lang`) as SQL: the first non-empty name in the request's language
 * order, else the id, exactly as {@link displayName} computes it, so the cursor holds what the client sees.
 */
function nameSql(alias: string, languages: readonly Language[]): string {
  const names = languages.map((l) => {
    const c = `${alias}.${nameProperty(l)}`;
    // bestText skips an empty string as it skips null; LENGTH (not NULLIF) keeps that exact on MySQL, where
    // PAD SPACE collations would also treat blanks as equal to ''.
    return `CASE WHEN LENGTH(${c}) > 0 THEN ${c} END`;
  });
  return `COALESCE(${[...names, `${alias}.id`].join(', ')})`;
}

/** What the `name` field resolves to for a language order: the best name, the id as a last resort. */
export const displayName = (o: Organization, languages: readonly Language[]): string =>
  bestText(readLocalized(o, 'name'), languages) ?? o.id;

/**
 * What `organizations(orderBy)` can order by, for a request's language order (NAME depends on it). Text keys
 * compare by code point on both backends (see common/src/ordering.ts).
 */
export function organizationSortKeys(
  alias: string,
  languages: readonly Language[],
): Record<OrganizationOrder['field'], SortKey<Organization>> {
  return {
    // Ids are binary-collated on MySQL already (migration BinaryKeys): no COLLATE, so the primary key serves.
    // In parentheses so the SQL differs from the id tie-break's `o.id`: orderedConnection adds its ORDER BY
    // terms with TypeORM's addOrderBy, which keys them by their SQL text, so an identical tie-break would
    // replace this term's direction (ID DESC would come back ascending).
    ID: { sql: `(${alias}.id)`, value: (o) => o.id, text: false },
    NAME: { sql: nameSql(alias, languages), value: (o) => displayName(o, languages), text: true },
    COUNTRY: { sql: `${alias}.country`, value: (o) => o.country, text: true },
    KIND: { sql: `${alias}.kind`, value: (o) => o.kind, text: true },
    CLASSIFICATION: { sql: `${alias}.classification`, value: (o) => o.classification, text: true },
    OGP_JOINED: { sql: `${alias}.ogpJoined`, value: (o) => o.ogpJoined, text: true },
  };
}

/**
 * Resolves `orderBy` to the terms of an ordered connection. NAME orders by the name in the request's
 * language order, so that order is part of the term's name, and with it of the cursor: a cursor made under
 * another Accept-Language is refused like one from another ordering, instead of silently paging wrongly.
 */
export function organizationOrder(
  orderBy: readonly OrganizationOrder[] | null | undefined,
  alias: string,
  languages: readonly Language[],
): OrderTerm<Organization>[] {
  return resolveOrderBy(orderBy, organizationSortKeys(alias, languages)).map((t) =>
    t.field === 'NAME' ? { ...t, field: `NAME(${languages.join(',')})` } : t,
  );
}
