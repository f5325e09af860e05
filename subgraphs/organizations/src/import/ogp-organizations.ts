import {
  KOSOVO_ISO2,
  classifyInstitution,
  countryNames,
  guessNameLanguage,
  type InstitutionRef,
  type OgpMember,
} from '@civic/formats/ogp-export';
import type { EntityManager } from 'typeorm';
import { classifyDerived, firstPerKey } from '@civic/common/import/derived';
import type { WriteContext } from '@civic/common/import/pipeline';
import type { WithProvenance } from '@civic/common/provenance';
import type { Organization } from '../entities/Organization';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';

/*
 * What the OGP files say about organizations, as records of this subgraph (without provenance): the OGP
 * members and the institutions the commitments export names. The `ogp-commitments` and `ogp-local` importers
 * build their rows with these.
 */

/** An organization's names, one column per language. */
export type Names = Pick<Organization, 'nameAr' | 'nameFr' | 'nameEn' | 'nameEs'>;

/** Names by language code (`{ fr: ... }`) as the organization's name columns, null where none is given. */
export const names = (n: {
  ar?: string | null;
  fr?: string | null;
  en?: string | null;
  es?: string | null;
}): Names => ({
  nameAr: n.ar ?? null,
  nameFr: n.fr ?? null,
  nameEn: n.en ?? null,
  nameEs: n.es ?? null,
});

/** An OGP member of the export (national government or local member), without provenance. */
export function exportMemberOrganization(m: OgpMember): Omit<Organization, keyof WithProvenance> {
  const national = m.membershipType === 'NATIONAL';
  return {
    id: m.id,
    kind: 'GOVERNMENT',
    classification: national ? 'national government' : 'local government',
    country: m.country,
    parentId: null,
    // A national member's names come in four languages from i18n-iso-countries; a local member has only
    // the export's English "Country/Locality" ("Kaduna State, Nigeria").
    ...(national && m.country ? names(countryNames(m.country)) : names({ en: m.name })),
    ogpMembershipType: m.membershipType,
    // The export does not say when a member joined OGP.
    ogpJoined: null,
  };
}

/** A member's identifiers: its OGP member code and, for a country, its ISO 3166-1 alpha-2 code. */
export function exportMemberIdentifiers(m: OgpMember): OrganizationIdentifier[] {
  const identifiers: OrganizationIdentifier[] = [
    { organizationId: m.id, scheme: 'ogp-member-code', value: m.code },
  ];
  // XK is user-assigned, not an ISO 3166-1 code: Kosovo gets no iso3166-1-alpha2 identifier.
  if (m.membershipType === 'NATIONAL' && m.country && m.country !== KOSOVO_ISO2) {
    identifiers.push({ organizationId: m.id, scheme: 'iso3166-1-alpha2', value: m.country });
  }
  return identifiers;
}

/** The identifier schemes this export gives organizations (an import replaces these, and only these). */
export const EXPORT_IDENTIFIER_SCHEMES = ['ogp-member-code', 'iso3166-1-alpha2'] as const;

/** Why a member is worth a warning: an "Other" (Kosovo) row loaded as a national-level member. */
export function exportMemberCaveat(m: OgpMember): string | null {
  return m.rawType !== 'National' && m.membershipType === 'NATIONAL'
    ? `member ${m.code} ("${m.name}") is "${m.rawType}" in the export; loaded as a national-level member (${m.id})`
    : null;
}

/** An institution named as lead or supporter, in its member's country, without provenance. */
export function exportInstitution(
  inst: InstitutionRef,
  country: string | null,
): Omit<Organization, keyof WithProvenance> {
  const { kind, classification } = classifyInstitution(inst.name);
  // The export gives one name per institution, in the language of the action plan. It goes into the
  // column of that language when the name is clearly French or Spanish, English otherwise (names in
  // other languages, such as Indonesian, also land there: the export has no language tag).
  const lang = guessNameLanguage(inst.name);
  return {
    id: inst.id,
    kind,
    classification,
    country,
    parentId: null,
    ...names({ [lang]: inst.name }),
    ogpMembershipType: null,
    ogpJoined: null,
  };
}

/** The organization columns whose warnings are about organizations (the others go with the commitments). */
export const EXPORT_ORGANIZATION_COLUMNS: ReadonlySet<string> = new Set([
  'Code',
  'Lead Institution',
  'Supporting Institution(s)',
]);

/**
 * Sorts the organizations a batch of OGP rows names by what is stored (new, changed, unchanged, or another
 * file's), the first row naming each one deciding its content: both OGP files name organizations this way.
 */
export function classifyNamed<N extends { organization: Organization }>(
  m: EntityManager,
  w: WriteContext,
  named: readonly N[],
) {
  const { first } = firstPerKey(named, (n) => n.organization.id);
  return classifyDerived(
    m,
    w,
    'organizations',
    'id',
    first,
    (n) => n.organization.id,
    (n) => n.organization,
  );
}

/** Warns that an organization the OGP file names is another dataset's record, which the import leaves alone. */
export function warnDescribedElsewhere(w: WriteContext, o: Organization, dataset: string): void {
  w.ctx.warn(
    w.ctx.issue(o.sourceLine, null, o.id, `organization ${o.id} is described by "${dataset}": left as it is`),
  );
}
