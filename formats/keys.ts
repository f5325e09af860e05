import { createHash } from 'node:crypto';

/**
 * Stable organization keys. Organizations are owned by the organizations subgraph; the commitments and budgets
 * subgraphs refer to them by these ids, computed from the same source facts, so every seed and importer
 * agrees on the key without reading another subgraph's tables.
 */

/** Lowercase ASCII slug: accents removed, anything else becomes a hyphen. Non-Latin text keeps a hash. */
export function slug(text: string, max = 80): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const hash = createHash('sha1').update(text.normalize('NFC')).digest('hex').slice(0, 8);
  if (!s) return hash;
  if (s.length <= max) return s;
  return `${s.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}

/** Normalizes an institution name for identity: trimmed, single spaces, NFC. */
export function normalizeName(name: string): string {
  return name.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** The national government of a country taking part in OGP: `gov-ma`. */
export const nationalGovernmentId = (iso2: string) => `gov-${iso2.toLowerCase()}`;
/** A local OGP member from the commitments export, by its OGP code: `ogp-local-mxjl`. */
export const ogpLocalMemberId = (code: string) => `ogp-local-${code.toLowerCase()}`;
/** An institution named in the OGP export, one per distinct name within a country: `inst-ma-house-of-representatives`. */
export const institutionId = (iso2: string | null, name: string) =>
  `inst-${(iso2 ?? 'xx').toLowerCase()}-${slug(normalizeName(name).toLowerCase())}`;
/** A Moroccan region by the source id REGION_01: `ma-region-01`. */
export const moroccoRegionId = (sourceId: string) => `ma-region-${sourceId.replace(/^REGION_/, '')}`;
/** A Moroccan province or prefecture by the source id DIV_001: `ma-division-001`. */
export const moroccoDivisionId = (sourceId: string) => `ma-division-${sourceId.replace(/^DIV_/, '')}`;
/** A Moroccan commune by the source id COM_0001: `ma-commune-0001`. */
export const moroccoCommuneId = (sourceId: string) => `ma-commune-${sourceId.replace(/^COM_/, '')}`;
/** A Tunisian municipality by its official code: `tn-municipality-33011`. */
export const tunisiaMunicipalityId = (code: string) => `tn-municipality-${code}`;
/** A Tunisian governorate by its French name: `tn-governorate-siliana`. */
export const tunisiaGovernorateId = (name: string) => `tn-governorate-${slug(name)}`;
/** An organization described in the OGP Local file, by its key there: `org-ndi`. */
export const localOrganizationId = (key: string) => `org-${slug(key)}`;
/** The governing body of an OGP Local member: `org-el-kef-government`. */
export const localGovernmentId = (memberKey: string) => `org-${slug(memberKey)}-government`;
