import type {
  Completion,
  DidItOpenGovernment,
  OgpValue,
  PotentialImpact,
  Specificity,
} from '@civic/formats/vocabulary';
import { fold, isMissing, type Parsed } from './cells';

/*
 * The IRM assessment scales and the 0/1 flag columns of the OGP commitments export, read into the
 * project's vocabulary (formats/vocabulary.ts).
 */

export type {
  Completion,
  DidItOpenGovernment,
  PotentialImpact,
  Specificity,
} from '@civic/formats/vocabulary';
/** An OGP value, as the export's four value columns name them. */
export type OgpValueCode = OgpValue;

function scale<T extends string>(labels: Record<string, T>, unclearIsValue = false) {
  return (raw: string | null | undefined): Parsed<T> => {
    const key = fold(raw ?? '');
    if (Object.hasOwn(labels, key)) return { value: labels[key], warning: null };
    if (isMissing(raw) && !(unclearIsValue && key === 'unclear')) return { value: null, warning: null };
    return {
      value: null,
      warning: `unexpected value "${raw}"; expected one of ${Object.keys(labels).join(', ')}`,
    };
  };
}

/** IRM "Specificity": None / Low / Medium / High. */
export const parseSpecificity = scale<Specificity>({
  none: 'NONE',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
});

/** IRM "Potential Impact": None / Minor / Moderate / Transformative. */
export const parsePotentialImpact = scale<PotentialImpact>({
  none: 'NONE',
  minor: 'MINOR',
  moderate: 'MODERATE',
  transformative: 'TRANSFORMATIVE',
});

/**
 * IRM completion, at the progress report and at the end of term. "Unclear" is a value of this scale (the
 * IRM could not tell how far the commitment went), not a missing-value marker, so it maps to UNCLEAR.
 */
export const parseCompletion = scale<Completion>(
  {
    'not started': 'NOT_STARTED',
    limited: 'LIMITED',
    substantial: 'SUBSTANTIAL',
    complete: 'COMPLETE',
    completed: 'COMPLETE',
    withdrawn: 'WITHDRAWN',
    unclear: 'UNCLEAR',
  },
  true,
);

/** IRM "Did It Open Government (Overall)". */
export const parseDidItOpenGovernment = scale<DidItOpenGovernment>({
  worsens: 'WORSENS',
  'did not change': 'DID_NOT_CHANGE',
  marginal: 'MARGINAL',
  major: 'MAJOR',
  outstanding: 'OUTSTANDING',
  'no early results to report yet': 'NO_EARLY_RESULTS_YET',
});

/**
 * IRM "Verifiable": Yes / No. One row has "1", the 0/1 coding of other IRM columns leaking in: it is read
 * as yes, with a warning so a person can check it.
 */
export function parseVerifiable(raw: string | null | undefined): Parsed<boolean> {
  const key = fold(raw ?? '');
  if (key === 'yes') return { value: true, warning: null };
  if (key === 'no') return { value: false, warning: null };
  if (key === '1') return { value: true, warning: 'value "1" read as Yes' };
  if (key === '0') return { value: false, warning: 'value "0" read as No' };
  if (isMissing(raw)) return { value: null, warning: null };
  return { value: null, warning: `unexpected value "${raw}"; expected Yes or No` };
}

/** The four "OGP Value ..." columns of the export and the value a "1" in each stands for. */
export const OGP_VALUE_COLUMNS: ReadonlyArray<readonly [string, OgpValueCode]> = [
  ['OGP Value Access To Information', 'ACCESS_TO_INFORMATION'],
  ['OGP Value Civic Participation', 'CIVIC_PARTICIPATION'],
  ['OGP Value Public Accountability', 'PUBLIC_ACCOUNTABILITY'],
  ['OGP Value Technology', 'TECHNOLOGY_AND_INNOVATION'],
];

/** A 0/1 flag cell: "1" is set, "0" and missing-value markers are not; anything else is a warning. */
export function parseFlag(raw: string | null | undefined): Parsed<boolean> {
  const v = (raw ?? '').trim();
  if (v === '1') return { value: true, warning: null };
  if (v === '0' || isMissing(v)) return { value: false, warning: null };
  return { value: false, warning: `unexpected flag value "${raw}"; expected 1 or 0` };
}
