import type { BundledFile } from '@civic/common/import/bundled';
import { SOURCES } from '@civic/formats/sources';
import { OGP_COMMITMENTS_KIND } from './ogp-commitments';
import { OGP_LOCAL_KIND } from './ogp-local';

/**
 * The files the commitments seed imports, in order, each through its kind's importer: the OGP commitments
 * export, then the OGP Local members file (its action plans are on units the organizations subgraph's
 * admin-division import describes, referred to by key).
 */
export const bundled: readonly BundledFile[] = [
  { kind: OGP_COMMITMENTS_KIND, path: SOURCES.ogpCommitments.file },
  { kind: OGP_LOCAL_KIND, path: SOURCES.ogpLocal.file },
];
