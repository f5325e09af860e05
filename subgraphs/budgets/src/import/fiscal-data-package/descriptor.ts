import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES, type Language } from '@civic/common/localized';
import { MAX_ID } from './limits';

/*
 * The package's datapackage.json: where it is, reading it, and the package-level properties (name, title,
 * license, organization, language, fiscal period). The model and resources have their own files.
 */

/**
 * A package that cannot be read, naming the descriptor property at fault (`model.measures.approved.currency`)
 * and its value: the importer refuses the whole file with it, since no row can be read without the model.
 */
export class PackageRefused extends Error {
  constructor(
    readonly column: string | null,
    readonly value: string | null,
    reason: string,
  ) {
    super(reason);
  }
}

/** The kind's options that change how a package is read (checked by the importer before any file). */
export interface Params {
  organization?: string;
  year?: string;
  direction?: string;
  phase?: string;
  /** Rows identical in every column to an earlier one are merged into it (not written), not loaded as facts. */
  dedupe?: boolean;
}

/** A JSON object of the descriptor (not an array, not null). */
export type Json = Record<string, unknown>;

/** Stable organization keys are lowercase words and digits joined by hyphens (formats/keys.ts). */
export const ORGANIZATION_KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether a descriptor value is a JSON object: the descriptor's shape is checked, never assumed. */
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A descriptor value as non-blank, trimmed text, or null: blank properties count as absent. */
export const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : null;

/** Where the descriptor of a package given as a folder or as its datapackage.json is. */
export function descriptorPath(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, 'datapackage.json');
  } catch {
    // Not found: reading it says so.
  }
  return path;
}

/** The descriptor's JSON (a byte order mark skipped), or the reason it cannot be read. */
export function readDescriptor(descPath: string, descDisplay: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(descPath, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PackageRefused(
      null,
      null,
      code ? `cannot read ${descDisplay}: ${code}` : `${descDisplay} is not JSON: ${(err as Error).message}`,
    );
  }
  if (!isObject(json)) throw new PackageRefused(null, null, `${descDisplay} is not a JSON object`);
  return json;
}

/** The dataset a package's records cite: its title (else name), homepage and first license. */
export interface PackageSource {
  dataset: string;
  url: string | null;
  license: string | null;
}

/** The package's name (its budgets' stable ids are made from it) and the source its records cite. */
export function packageIdentity(json: Json): { name: string; source: PackageSource } {
  const name = str(json.name);
  if (!name)
    throw new PackageRefused(
      'name',
      null,
      "the package has no name: its budgets' stable ids are made from it",
    );
  const title = str(json.title) ?? name;
  const licenses = Array.isArray(json.licenses) ? json.licenses : [];
  const firstLicense = isObject(licenses[0]) ? (str(licenses[0].title) ?? str(licenses[0].name)) : null;
  const license = firstLicense ?? (isObject(json.license) ? str(json.license.type) : str(json.license));
  return { name, source: { dataset: title, url: str(json.homepage), license } };
}

/** The stable key of the organization whose budget it is: --organization, else the package's property. */
export function packageOrganization(json: Json, params: Params): string {
  const organization = params.organization ?? str(json.organization);
  if (!organization)
    throw new PackageRefused(
      'organization',
      null,
      'no organization: give --organization <stable key> (e.g. tn-municipality-34012) or an "organization" property',
    );
  if (!ORGANIZATION_KEY.test(organization) || organization.length > MAX_ID)
    throw new PackageRefused(
      'organization',
      organization,
      'not a stable organization key (lowercase letters, digits and hyphens, e.g. tn-municipality-34012)',
    );
  return organization;
}

/** The package's `language` (its first two letters), which labels without a language suffix are in. */
export function packageLanguage(json: Json): Language | null {
  const language = str(json.language)?.toLowerCase().slice(0, 2) ?? null;
  if (language !== null && !(LANGUAGES as readonly string[]).includes(language))
    throw new PackageRefused('language', language, `labels are kept in ${LANGUAGES.join(', ')} only`);
  return language as Language | null;
}

/**
 * The package's `granularity`: `transactional` (payments, each row one) or `aggregated` (budget lines); null
 * when it does not say. Transactional figures are executed ones unless a measure says otherwise.
 */
export function packageGranularity(json: Json, warnings: string[]): 'transactional' | 'aggregated' | null {
  const g = str(json.granularity)?.toLowerCase() ?? null;
  if (g === null || g === 'transactional' || g === 'aggregated') return g;
  warnings.push(`granularity "${g}" is neither "aggregated" nor "transactional": read as not said`);
  return null;
}

/** The year `fiscalPeriod.start` is in: the year of every row when nothing else gives one. */
export function fiscalPeriodYear(json: Json): number {
  const start = isObject(json.fiscalPeriod) ? str(json.fiscalPeriod.start) : null;
  const y = start ? /^(\d{4})/.exec(start)?.[1] : null;
  if (!y)
    throw new PackageRefused(
      'model.dimensions',
      null,
      'no fiscal year: the model has no date dimension, the package no fiscalPeriod; give --year',
    );
  return Number(y);
}
