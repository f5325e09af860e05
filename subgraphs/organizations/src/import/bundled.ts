import type { BundledFile } from '@civic/common/import/bundled';
import { SOURCES } from '@civic/formats/sources';
import { OGP_LOCAL_KIND } from './ogp-local';
import { TN_MUNICIPALITIES } from './tn-municipalities';

/**
 * The administrative divisions the organizations seed imports, in order, each through its kind's importer:
 * Morocco's regions, then its provinces and prefectures, then its communes (each level's parents are stored
 * before it, so no parent is reported missing), and Tunisia's municipalities with their governorates.
 */
export const adminDivisionFiles: readonly BundledFile[] = [
  { kind: 'admin-divisions', path: 'morocco/regions.json' },
  { kind: 'admin-divisions', path: 'morocco/region-divisions.json' },
  { kind: 'admin-divisions', path: 'morocco/communes.json' },
  { kind: TN_MUNICIPALITIES, path: 'tunisia/municipalities.csv' },
];

/**
 * The files the organizations seed imports, in order: the administrative divisions first, so that the OGP
 * files, which name some of the same units (the OGP Local members Béni Mellal-Khénifra and El Kef), add
 * their membership to units already described rather than describe them.
 */
export const bundled: readonly BundledFile[] = [
  ...adminDivisionFiles,
  { kind: 'ogp-commitments', path: SOURCES.ogpCommitments.file },
  { kind: OGP_LOCAL_KIND, path: SOURCES.ogpLocal.file },
];
