import { nationalGovernmentId, ogpLocalMemberId } from '@civic/formats/keys';
import { fold } from './cells';
import { alpha2FromAlpha3, alpha2FromName, isCountryCode, KOSOVO_ISO2 } from './countries';

/*
 * The OGP member of an export row: a national government (`gov-ma`) or a local one (`ogp-local-ngkd`), with
 * its country, from the row's "National Or Local", "Code" and "Country/Locality".
 */

/** The OGP member a commitment belongs to: a national government or a local government. */
export interface OgpMember {
  /** Organization id: `gov-ma` for a national member, `ogp-local-ngkd` for a local one. */
  id: string;
  /** The export's member code: ISO 3166-1 alpha-3 for nationals ("MAR"), OGP's own code for locals ("NGKD"). */
  code: string;
  /** ISO 3166-1 alpha-2 of the member's country, null when it could not be told. */
  country: string | null;
  membershipType: 'NATIONAL' | 'LOCAL';
  /** "Country/Locality" as written: "Morocco", "Kaduna State, Nigeria". */
  name: string;
  /** "National Or Local" as written: National, Legacy Local, Other. */
  rawType: string;
}

/** Country alpha-2 from an English country name ("United Kingdom", "Kosovo"). */
function countryFromName(name: string): string | null {
  const n = name.trim();
  if (fold(n) === 'kosovo') return KOSOVO_ISO2;
  return alpha2FromName(n);
}

/**
 * The member of one export row. "National" rows are national governments, keyed by the alpha-2 of their
 * ISO3 `Code`. "Legacy Local" rows are local governments keyed by their OGP code, their country read from
 * the part of "Country/Locality" after the last comma. "Other" is used for Kosovo only: its code XKX is not
 * in ISO 3166-1, and OGP lists it apart from the countries. Its action plan is a central government's plan,
 * so it is read as a national-level member (`gov-xk`, country XK), not as a local one; an "Other" row with a
 * locality ("City, Country") is read as local.
 */
export function resolveMember(
  rawType: string,
  code: string,
  locality: string,
): { member: OgpMember | null; problem: string | null; warnings: string[] } {
  const type = fold(rawType);
  const warnings: string[] = [];
  const c = code.trim().toUpperCase();
  const name = locality.trim();
  if (!c) return { member: null, problem: 'no member Code', warnings };
  const national = (iso2: string): OgpMember => ({
    id: nationalGovernmentId(iso2),
    code: c,
    country: iso2,
    membershipType: 'NATIONAL',
    name,
    rawType,
  });
  if (type === 'national' || (type === 'other' && !name.includes(','))) {
    const iso2 = c === 'XKX' ? KOSOVO_ISO2 : alpha2FromAlpha3(c);
    if (iso2) return { member: national(iso2), problem: null, warnings };
    const byName = countryFromName(name);
    if (byName) {
      warnings.push(`member Code "${c}" is not ISO 3166-1 alpha-3; country read from "${name}"`);
      return { member: national(byName), problem: null, warnings };
    }
    return { member: null, problem: `member Code "${c}" is not an ISO 3166-1 alpha-3 code`, warnings };
  }
  if (type === 'legacy local' || type === 'local' || type === 'other') {
    const countryName = name.includes(',') ? name.slice(name.lastIndexOf(',') + 1) : name;
    let country = countryFromName(countryName);
    // OGP local codes start with the country's alpha-2 ("NGKD", "GBSC"): a cross-check, or a fallback.
    const prefix = c.slice(0, 2);
    if (!country) {
      if (isCountryCode(prefix)) {
        country = prefix;
        warnings.push(
          `country "${countryName.trim()}" not recognized; taken from the member code prefix ${prefix}`,
        );
      } else warnings.push(`country "${countryName.trim()}" not recognized; member country left unknown`);
    } else if (prefix !== country) {
      warnings.push(`member code ${c} does not start with the country code ${country}`);
    }
    return {
      member: { id: ogpLocalMemberId(c), code: c, country, membershipType: 'LOCAL', name, rawType },
      problem: null,
      warnings,
    };
  }
  return { member: null, problem: `unknown "National Or Local" value "${rawType}"`, warnings };
}
