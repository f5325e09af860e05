import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { fileFacts, type FileFacts } from '@civic/common/import/file';
import { descriptorPath, isObject, PackageRefused, str, type Json } from './descriptor';

/*
 * The package's CSV resources: which files they are (local, inside the package's folder), their dialect,
 * and the facts (checksum, size) of the package as a whole.
 */

/** One CSV resource of a package. */
export interface Resource {
  name: string;
  /** Absolute path. */
  path: string;
  /** As written in the descriptor (records cite it). */
  relative: string;
  /** As named to the importer: the package's path joined with `relative` (refused rows cite it). */
  display: string;
  delimiter: string;
  /** The delimiter was not declared (no `dialect.delimiter`) but read off the header line. */
  delimiterDetected: boolean;
}

/** A URL rather than a path: remote resources are not fetched. */
const REMOTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The package's resources, in order: each must be a CSV file inside the package's folder (a path escaping it
 * could read any file the importer can), local, and in one part.
 */
export function readResources(json: Json, descPath: string, descDisplay: string): Resource[] {
  if (!Array.isArray(json.resources) || !json.resources.length)
    throw new PackageRefused('resources', null, 'the package lists no resources');
  const root = dirname(resolve(descPath));
  return json.resources.map((r: unknown, i: number) => readResource(r, i, root, descDisplay));
}

function readResource(r: unknown, i: number, root: string, descDisplay: string): Resource {
  const at = `resources[${i}]`;
  if (!isObject(r)) throw new PackageRefused(at, null, 'a resource must be an object');
  const rel = str(r.path);
  if (!rel)
    throw new PackageRefused(
      `${at}.path`,
      null,
      Array.isArray(r.path)
        ? 'multi-part resources are not read: one CSV file per resource'
        : 'a resource needs a path (inline data is not read)',
    );
  if (REMOTE.test(rel))
    throw new PackageRefused(
      `${at}.path`,
      rel,
      'remote resources are not fetched: download it next to datapackage.json',
    );
  const abs = resolve(root, rel);
  if (isAbsolute(rel) || !(abs + sep).startsWith(root + sep))
    throw new PackageRefused(`${at}.path`, rel, 'a resource must be a file inside the package folder');
  const format = str(r.format)?.toLowerCase();
  if ((format && format !== 'csv') || (!format && !/\.csv$/i.test(rel)))
    throw new PackageRefused(`${at}.path`, rel, 'only CSV resources are read');
  const dialect = isObject(r.dialect) ? r.dialect : {};
  const declared = str(dialect.delimiter);
  const delimiter = declared ?? sniffDelimiter(abs);
  return {
    name: str(r.name) ?? `resource ${i + 1}`,
    path: abs,
    relative: normalize(rel),
    display: join(dirname(descDisplay), rel),
    delimiter,
    delimiterDetected: declared === null,
  };
}

/** The delimiters a CSV resource without a dialect may use, the standard one first. */
const DELIMITERS = [',', ';', '\t', '|'];

/**
 * The delimiter of a resource that declares none: the one found most often outside quotes on its header line
 * (a byte-order mark aside), ',' on a tie, for a header of one column, or for a file that cannot be read (the
 * read then refuses it, naming the file). Semicolons are what spreadsheets in many locales write.
 */
export function sniffDelimiter(path: string): string {
  let head: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(65536);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return ',';
  }
  const counts = new Map(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const c of head.replace(/^\uFEFF/, '')) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  return DELIMITERS.reduce((best, d) => (counts.get(d)! > counts.get(best)! ? d : best), ',');
}

/** The local resource paths a descriptor lists, read leniently: an unreadable one lists none. */
function resourcePaths(desc: string): string[] {
  try {
    const json = JSON.parse(readFileSync(desc, 'utf8').replace(/^\uFEFF/, '')) as {
      resources?: { path?: unknown }[];
    };
    return (json.resources ?? [])
      .map((r) => r?.path)
      .filter((x): x is string => typeof x === 'string' && !REMOTE.test(x));
  } catch {
    // An unreadable descriptor is refused when read: its own checksum stands for the package.
    return [];
  }
}

/**
 * The facts of a package (a folder or its datapackage.json): a checksum over the descriptor and every
 * resource that exists, and their total size, so a change to any of them is a new file to the checkpoint.
 * The facts of each resource are left in `resourceFacts` (cleared first) for reading it without hashing twice.
 */
export async function packageFacts(path: string, resourceFacts: Map<string, FileFacts>): Promise<FileFacts> {
  const desc = descriptorPath(path);
  const own = await fileFacts(desc);
  resourceFacts.clear();
  const parts: [string, string][] = [['datapackage.json', own.checksum]];
  let bytes = own.bytes;
  for (const rel of resourcePaths(desc)) {
    const abs = resolve(dirname(desc), rel);
    if (
      !(await stat(abs)
        .then((s) => s.isFile())
        .catch(() => false))
    )
      continue;
    const f = await fileFacts(abs);
    resourceFacts.set(abs, f);
    parts.push([rel, f.checksum]);
    bytes += f.bytes;
  }
  const checksum = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return { checksum, bytes, unreadable: null, firstNonUtf8Line: null };
}
