/**
 * Vocabularies more than one part of the code speaks: the organizations subgraph stores these values, and the
 * dataset readers in common/ classify source rows into them.
 */
export const ORGANIZATION_KINDS = [
  'GOVERNMENT',
  'CIVIL_SOCIETY',
  'INTERNATIONAL',
  'PRIVATE',
  'ACADEMIC',
  'OTHER',
] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];
