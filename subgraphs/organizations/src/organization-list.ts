import { binaryCollation } from '../../../common/src/migration-columns';
import { Brackets, type SelectQueryBuilder } from 'typeorm';
import { badInput } from '../../../common/src/errors';
import { countryFilter, LIKE_ESCAPE, likePattern } from '../../../common/src/filters';
import {
  bestText,
  LANGUAGES,
  localizedProperty,
  readLocalized,
  type Language,
} from '../../../common/src/localized';
import { resolveOrderBy, type OrderTerm, type SortKey } from '../../../common/src/ordering';
import { searchQuery, type SearchSql } from '../../../common/src/search';
import type { Organization } from './entities/Organization';
import type { OrganizationFilter, OrganizationOrder } from './generated/resolvers-types';
import { ORGANIZATION_SEARCH_TYPE } from './organization-search';

/** The alias of the joined search (`search.entity_id`, `search.score`) in a filtered list query. */
export const SEARCH_ALIAS = 'search';

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

/** A required text argument, trimmed; an empty one is refused naming the argument. */
function nonEmpty(value: string, argument: string, example: string): string {
  const v = value.trim();
  if (!v) throw badInput(`Argument "${argument}" must not be empty; for example "${example}"`, argument);
  return v;
}

/**
 * Adds the conditions of an `OrganizationFilter` (combined with AND) to a query over organizations. Each
 * impossible value is refused with the name of the argument (`filter.identifier.scheme`...), before any
 * statement runs. With `search`, the matching organizations are joined as {@link SEARCH_ALIAS} (their
 * `score` orders by relevance) and the search is returned; null without one.
 */
export function applyOrganizationFilter(
  qb: SelectQueryBuilder<Organization>,
  filter: OrganizationFilter | null | undefined,
): SearchSql | null {
  const a = qb.alias;
  const f = filter ?? {};
  if (f.kind) qb.andWhere(`${a}.kind = :kind`, { kind: f.kind });
  if (f.country != null)
    qb.andWhere(`${a}.country = :country`, { country: countryFilter(f.country, 'filter.country') });
  if (f.nameContains != null) {
    const text = f.nameContains.trim();
    if (!text) throw badInput('Argument "filter.nameContains" must not be empty', 'filter.nameContains');
    const pattern = likePattern(text);
    qb.andWhere(
      new Brackets((w) => {
        for (const l of LANGUAGES)
          w.orWhere(`LOWER(${a}.${nameProperty(l)}) LIKE LOWER(:pattern) ESCAPE '${LIKE_ESCAPE}'`, {
            pattern,
          });
      }),
    );
  }
  if (f.parentId != null) qb.andWhere(`${a}.parentId = :parentId`, { parentId: f.parentId });
  if (f.ogpMember != null) qb.andWhere(`${a}.ogpMembershipType IS ${f.ogpMember ? 'NOT NULL' : 'NULL'}`);
  if (f.identifier != null) {
    const scheme = nonEmpty(f.identifier.scheme, 'filter.identifier.scheme', 'tn-municipality');
    const value = nonEmpty(f.identifier.value, 'filter.identifier.value', '34012');
    // The (scheme, value) index serves the lookup; on MySQL those columns compare case-insensitively, so the
    // match is also checked byte for byte: "TN-MUNICIPALITY" finds nothing on MySQL, as on SQLite.
    const binary = binaryCollation(qb.connection.options.type);
    const exact = binary
      ? ` AND i.scheme COLLATE ${binary} = :idScheme AND i.value COLLATE ${binary} = :idValue`
      : '';
    qb.andWhere(
      `EXISTS (SELECT 1 FROM organization_identifiers i WHERE i.organization_id = ${a}.id` +
        ` AND i.scheme = :idScheme AND i.value = :idValue${exact})`,
      { idScheme: scheme, idValue: value },
    );
  }
  if (f.search == null) return null;
  // Refuses (BAD_USER_INPUT, `filter.search`) a text too long or with no word that can be searched.
  const search = searchQuery(qb.connection, ORGANIZATION_SEARCH_TYPE, f.search);
  qb.innerJoin(`(${search.sql})`, SEARCH_ALIAS, `${SEARCH_ALIAS}.entity_id = ${a}.id`).setParameters(
    search.parameters,
  );
  return search;
}
