/**
 * Vocabularies more than one part of the code speaks: the subgraphs store these values, and the dataset readers
 * in formats/ classify source rows into them.
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

/** IRM assessment scales, as published by OGP's Independent Reporting Mechanism. */
export const SPECIFICITY = ['NONE', 'LOW', 'MEDIUM', 'HIGH'] as const;
export type Specificity = (typeof SPECIFICITY)[number];
export const POTENTIAL_IMPACT = ['NONE', 'MINOR', 'MODERATE', 'TRANSFORMATIVE'] as const;
export type PotentialImpact = (typeof POTENTIAL_IMPACT)[number];
export const COMPLETION = [
  'NOT_STARTED',
  'LIMITED',
  'SUBSTANTIAL',
  'COMPLETE',
  'WITHDRAWN',
  'UNCLEAR',
] as const;
export type Completion = (typeof COMPLETION)[number];
export const DID_IT_OPEN_GOVERNMENT = [
  'WORSENS',
  'DID_NOT_CHANGE',
  'MARGINAL',
  'MAJOR',
  'OUTSTANDING',
  'NO_EARLY_RESULTS_YET',
] as const;
export type DidItOpenGovernment = (typeof DID_IT_OPEN_GOVERNMENT)[number];
/** The four OGP values. */
export const OGP_VALUES = [
  'ACCESS_TO_INFORMATION',
  'CIVIC_PARTICIPATION',
  'PUBLIC_ACCOUNTABILITY',
  'TECHNOLOGY_AND_INNOVATION',
] as const;
export type OgpValue = (typeof OGP_VALUES)[number];
