import {
  KOSOVO_ISO2,
  classifyInstitution,
  countryNames,
  guessNameLanguage,
  readOgpExport,
  readOgpLocal,
  type InstitutionRef,
  type OgpLocal,
  type OgpMember,
} from '../../../../common/src/datasets/ogp-export';
import { localGovernmentId, localOrganizationId } from '../../../../common/src/keys';
import { fromSource, type WithProvenance } from '../../../../common/src/provenance';
import { emptyReport } from '../../../../common/src/seed';
import { DATASETS_DIR, SOURCES, datasetPath } from '../../../../common/src/sources';
import type { Organization } from '../entities/Organization';
import type { OrganizationIdentifier } from '../entities/OrganizationIdentifier';
import { organizationSeed, type OrganizationSeed } from './types';

type Names = Pick<Organization, 'nameAr' | 'nameFr' | 'nameEn' | 'nameEs'>;

const names = (n: {
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
 * The organizations the OGP commitments export names: one per OGP member (a national government `gov-ma`,
 * or a local member `ogp-local-ngkd`) and one per distinct institution named as lead or supporter, per
 * country (`inst-ma-directorate-of-budget-ministry-of-economy-and-finance`). Each is recorded with the
 * first commitment that names it. Built by the same functions as the `ogp-commitments` importer's
 * (src/import/ogp-commitments.ts).
 */
function fromExport(dir: string): OrganizationSeed {
  const source = SOURCES.ogpCommitments;
  const report = emptyReport(source.dataset);
  const data = readOgpExport(datasetPath(source.file, dir));
  report.refused.push(...data.refused);
  // This seed makes organizations only: the warnings about them (members, institution cells) are reported
  // here, the others with the commitments.
  report.warnings.push(
    ...data.warnings
      .filter((w) => w.column && EXPORT_ORGANIZATION_COLUMNS.has(w.column))
      .map(({ record, message }) => ({ record, message })),
  );

  const organizations = new Map<string, Organization>();
  const identifiers: OrganizationIdentifier[] = [];
  for (const row of data.rows) {
    const m = row.member;
    if (!organizations.has(m.id)) {
      organizations.set(m.id, { ...exportMemberOrganization(m), ...fromSource(source, row.id) });
      identifiers.push(...exportMemberIdentifiers(m));
      const caveat = exportMemberCaveat(m);
      if (caveat) report.warnings.push({ record: row.id, message: caveat });
    }
    for (const inst of [...(row.lead ? [row.lead] : []), ...row.supporters]) {
      if (organizations.has(inst.id)) continue;
      organizations.set(inst.id, { ...exportInstitution(inst, m.country), ...fromSource(source, row.id) });
    }
  }
  return organizationSeed(report, [...organizations.values()], identifiers);
}

/** Provenance of a record of the OGP Local file: its dataset, with the URL of the source the record names. */
function localProvenance(local: OgpLocal, sourceKey: string | undefined, record: string) {
  const named = sourceKey ? local.file.sources[sourceKey] : undefined;
  return fromSource(
    {
      dataset: SOURCES.ogpLocal.dataset,
      url: named?.url ?? SOURCES.ogpLocal.url,
      license: named?.license ?? SOURCES.ogpLocal.license,
    },
    record,
  );
}

/**
 * The OGP Local members file. A member is the administrative unit itself (Béni Mellal-Khénifra is the
 * region `ma-region-01`, El Kef the municipality `tn-municipality-33011`), which the admin-division seed
 * creates; this record adds what the OGP file says about it (membership, date joined, names), and the
 * seed's merger fills it in. Also: each member's governing body (the regional or municipal council, child
 * of the member) and the organizations the file describes (NDI, TWIZA, OGP).
 */
function fromLocalFile(dir: string): OrganizationSeed {
  const report = emptyReport(SOURCES.ogpLocal.dataset);
  const local = readOgpLocal(dir);
  report.refused.push(...local.refused);
  report.warnings.push(...local.warnings.map(({ record, message }) => ({ record, message })));
  const organizations: Organization[] = [];
  const identifiers: OrganizationIdentifier[] = [];

  for (const { record: m, id } of local.members) {
    organizations.push({
      id,
      kind: 'GOVERNMENT',
      classification: m.level,
      country: m.country,
      parentId: null,
      ...names(m.names),
      ogpMembershipType: m.ogp.type,
      ogpJoined: m.ogp.joined ?? null,
      ...localProvenance(local, m.ogp.source, m.key),
    });
    for (const i of m.identifiers ?? [])
      identifiers.push({ organizationId: id, scheme: i.scheme, value: i.value });
    if (m.government) {
      organizations.push({
        id: localGovernmentId(m.key),
        kind: m.government.kind,
        classification:
          m.level === 'region' ? 'regional council' : m.level === 'municipality' ? 'municipal council' : null,
        country: m.country,
        parentId: id,
        ...names(m.government.names),
        ogpMembershipType: null,
        ogpJoined: null,
        ...localProvenance(local, m.ogp.source, `${m.key}.government`),
      });
    }
  }
  for (const o of local.file.organizations) {
    organizations.push({
      id: localOrganizationId(o.key),
      kind: o.kind,
      // The file does not classify them further.
      classification: null,
      country: o.country ?? null,
      parentId: null,
      ...names(o.names),
      ogpMembershipType: null,
      ogpJoined: null,
      ...localProvenance(local, o.source, o.key),
    });
  }
  return organizationSeed(report, organizations, identifiers);
}

/**
 * Organizations from the two OGP files, as two seeds: (a) the commitments export's members and named
 * institutions, (b) the OGP Local members file's members, their governing bodies and the organizations it
 * describes. Pure: reads the files under `dir`, never the database.
 */
export function buildOgpOrganizations(dir: string = DATASETS_DIR): OrganizationSeed[] {
  return [fromExport(dir), fromLocalFile(dir)];
}
