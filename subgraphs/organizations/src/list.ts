import { Brackets, type SelectQueryBuilder } from 'typeorm';
import { badInput } from '@civic/common/errors';
import { binary, isMysql } from '@civic/common/dialect';
import { countryFilter, LIKE_ESCAPE, likePattern } from '@civic/common/filters';
import { LANGUAGES, localizedProperty, type Language } from '@civic/common/localized';
import { listSearch, type SearchSql } from '@civic/common/search';
import type { Organization } from './entities/Organization';
import type { OrganizationFilter } from './generated/resolvers-types';
import { ORGANIZATION_SEARCH_TYPE } from './search';

/** `nameFr`, `nameAr`...: the entity property of a language's name column. */
const nameProperty = (l: Language) => localizedProperty('name', l);

/** A required text argument, trimmed; an empty one is refused naming the argument. */
function nonEmpty(value: string, argument: string, example: string): string {
  const v = value.trim();
  if (!v) throw badInput(`Argument "${argument}" must not be empty; for example "${example}"`, argument);
  return v;
}

/**
 * Adds the conditions of an `OrganizationFilter` (combined with AND) to a query over organizations. Each
 * impossible value is refused with the name of the argument (`filter.identifier.scheme`...), before any
 * statement runs. The search is read (and refused, naming `filter.search`, when it cannot be searched) but
 * not joined: it is returned for `searchableConnection`, which joins it; null without one.
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
    const exact = isMysql(qb.connection)
      ? ` AND ${binary(qb.connection, 'i.scheme')} = :idScheme AND ${binary(qb.connection, 'i.value')} = :idValue`
      : '';
    qb.andWhere(
      `EXISTS (SELECT 1 FROM organization_identifiers i WHERE i.organization_id = ${a}.id` +
        ` AND i.scheme = :idScheme AND i.value = :idValue${exact})`,
      { idScheme: scheme, idValue: value },
    );
  }
  // Refuses (BAD_USER_INPUT, `filter.search`) a text too long or with no word that can be searched.
  return listSearch(qb.connection, ORGANIZATION_SEARCH_TYPE, f.search);
}
