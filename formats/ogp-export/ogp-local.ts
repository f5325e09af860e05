import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FileRefused } from '@civic/common/import/csv';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import { ORGANIZATION_KINDS } from '@civic/formats/vocabulary';
import { resolveLocalMember } from './local-members';

/*
 * The OGP Local members file (data/datasets/ogp-local/ogp-local-members.json): facts about OGP Local members
 * (each an administrative unit: a Moroccan region, a Tunisian municipality), their governing bodies and action
 * plans, and the organizations the file describes. Every record names its source among the file's "sources".
 * Read whole (it is small), each record with the line it starts on, and validated record by record.
 */

const localizedNames = z.object({
  fr: z.string().optional(),
  en: z.string().optional(),
  ar: z.string().optional(),
  es: z.string().optional(),
});

const organizationKind = z.enum(ORGANIZATION_KINDS);

const sourcesSchema = z.record(
  z.string(),
  z.object({ title: z.string(), url: z.string(), license: z.string().nullable().optional() }),
);

const memberSchema = z.object({
  key: z.string().min(1),
  names: localizedNames,
  country: z.string().length(2),
  level: z.string(),
  identifiers: z.array(z.object({ scheme: z.string(), value: z.string() })).optional(),
  ogp: z.object({ type: z.enum(['NATIONAL', 'LOCAL']), joined: z.string().optional(), source: z.string() }),
  government: z.object({ names: localizedNames, kind: organizationKind }).optional(),
  actionPlans: z
    .array(
      z.object({
        period: z.object({ start: z.string(), end: z.string().optional() }),
        submitted: z.string().optional(),
        source: z.string(),
        commitmentsDescribed: z.array(z.object({ names: localizedNames, source: z.string() })).optional(),
      }),
    )
    .optional(),
});

const organizationSchema = z.object({
  key: z.string().min(1),
  names: localizedNames,
  kind: organizationKind,
  country: z.string().length(2).optional(),
  source: z.string(),
});

/** The sources a file cites, by key (`ogp-article`): what each record's provenance URL and licence come from. */
export type OgpLocalSources = z.infer<typeof sourcesSchema>;
/** A member as the file describes it (fields this code does not read, such as `cocreation`, are dropped). */
export type OgpLocalMemberRecord = z.infer<typeof memberSchema>;
/** An organization the file describes (NDI, TWIZA, OGP). */
export type OgpLocalOrganizationRecord = z.infer<typeof organizationSchema>;

/** The lists of the file that hold records. */
export const OGP_LOCAL_LISTS = ['members', 'organizations'] as const;
type List = (typeof OGP_LOCAL_LISTS)[number];

/** One record of the file as read: its list, its place there, and the file's sources it may cite. */
export interface OgpLocalEntry {
  list: List;
  index: number;
  value: unknown;
  sources: OgpLocalSources;
}

/** A record validated: a member with the organization id of the administrative unit it is, or an organization. */
export type OgpLocalRecord =
  | { kind: 'member'; key: string; id: string; record: OgpLocalMemberRecord; sources: OgpLocalSources }
  | { kind: 'organization'; key: string; record: OgpLocalOrganizationRecord; sources: OgpLocalSources };

/**
 * The line each element of the top-level object's `lists` arrays starts on, by a scan of the text that
 * follows strings and nesting (valid JSON has no raw newline inside a string).
 */
export function elementLines(text: string, lists: readonly string[]): Map<string, number[]> {
  const out = new Map(lists.map((l) => [l, [] as number[]]));
  let line = 1;
  let depth = 0;
  let key: string | null = null;
  let current: number[] | null = null;
  let expecting = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line += 1;
    if (/\s/.test(c)) continue;
    if (depth === 2 && current && expecting && c !== ',' && c !== ']') {
      current.push(line);
      expecting = false;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) key = text.slice(i + 1, j);
      i = j;
    } else if (c === '{' || c === '[') {
      if (depth === 1 && c === '[' && key !== null && out.has(key)) {
        current = out.get(key)!;
        expecting = true;
      }
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 1) current = null;
    } else if (c === ',' && depth === 2 && current) expecting = true;
  }
  return out;
}

const refuseFile = (reason: string, line: number | null = null): never => {
  throw new FileRefused({ line, column: null, value: null, reason });
};

/** The file's JSON, checked to be the OGP Local layout: an object with "sources", "members" and "organizations". */
function parseFile(text: string): { sources: OgpLocalSources; lists: Record<List, unknown[]> } {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return refuseFile(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    return refuseFile('expected an object with "sources", "members" and "organizations"', 1);
  const o = json as Record<string, unknown>;
  const sources = sourcesSchema.safeParse(o.sources);
  if (!sources.success) return refuseFile(`"sources": ${z.prettifyError(sources.error)}`);
  for (const l of OGP_LOCAL_LISTS) if (!Array.isArray(o[l])) refuseFile(`"${l}" must be an array`);
  return {
    sources: sources.data,
    lists: { members: o.members as unknown[], organizations: o.organizations as unknown[] },
  };
}

/**
 * Streams the file's records, members then organizations, each with the line it starts on. A file that is not
 * JSON, or not this layout, is refused whole (nothing is loaded).
 */
export async function* readOgpLocalRecords(ctx: ImportContext): AsyncGenerator<SourceRow<OgpLocalEntry>> {
  if (ctx.facts.unreadable) refuseFile(ctx.facts.unreadable);
  if (ctx.facts.firstNonUtf8Line !== null) refuseFile('the file is not UTF-8', ctx.facts.firstNonUtf8Line);
  const text = readFileSync(ctx.path, 'utf8');
  const { sources, lists } = parseFile(text);
  const lines = elementLines(text, OGP_LOCAL_LISTS);
  for (const list of OGP_LOCAL_LISTS)
    for (const [index, value] of lists[list].entries())
      yield { line: lines.get(list)![index] ?? 1, data: { list, index, value, sources } };
}

/** The first problem zod found, as a column (the record's path) and a reason. */
function schemaProblem(where: string, error: z.ZodError): { column: string; reason: string } {
  const issue = error.issues[0];
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return { column: `${where}${path}`, reason: issue.message };
}

/** Warns about sources a record names that the file's "sources" does not list. */
function warnUnknownSources(
  names: readonly string[],
  sources: OgpLocalSources,
  warn: (column: string, message: string) => void,
  where: string,
): void {
  const unknown = names.find((s) => !sources[s]);
  if (unknown) warn(`${where}.source`, `source "${unknown}" is not in "sources"`);
}

/**
 * Validates one record of the file: its shape, the sources it names and, for a member, the administrative
 * unit it is (found in the bundled reference files, see local-members.ts). A record that cannot be loaded is
 * refused through `ctx` with its line, path and reason. Both parts of the `ogp-local` import call this on the
 * same records, so they refuse the same ones in the same words.
 */
export function validateOgpLocalRecord(
  row: SourceRow<OgpLocalEntry>,
  ctx: Pick<ImportContext, 'refuse' | 'warn' | 'issue'>,
): OgpLocalRecord | null {
  const { list, index, value, sources } = row.data;
  const where = `${list}[${index}]`;
  const refuse = (column: string | null, v: unknown, reason: string) => {
    ctx.refuse([ctx.issue(row.line, column, v === undefined ? null : JSON.stringify(v), reason)]);
    return null;
  };
  const warn = (column: string, message: string) => ctx.warn(ctx.issue(row.line, column, null, message));
  if (list === 'organizations') {
    const o = organizationSchema.safeParse(value);
    if (!o.success) {
      const p = schemaProblem(where, o.error);
      return refuse(p.column, value, p.reason);
    }
    warnUnknownSources([o.data.source], sources, warn, where);
    return { kind: 'organization', key: o.data.key, record: o.data, sources };
  }
  const m = memberSchema.safeParse(value);
  if (!m.success) {
    const p = schemaProblem(where, m.error);
    return refuse(p.column, value, p.reason);
  }
  warnUnknownSources(
    [m.data.ogp.source, ...(m.data.actionPlans ?? []).map((p) => p.source)],
    sources,
    warn,
    where,
  );
  const unit = resolveLocalMember(m.data);
  if ('problem' in unit) return refuse(`${where}.${unit.column}`, unit.value, unit.problem);
  if (unit.warning) warn(`${where}.identifiers`, unit.warning);
  return { kind: 'member', key: m.data.key, id: unit.id, record: m.data, sources };
}

/**
 * What a record of the file cites: the dataset, with the URL and licence of the source the record names
 * (the dataset's own when it names none the file lists).
 */
export function ogpLocalSource(
  dataset: { dataset: string; url: string | null; license: string | null },
  sources: OgpLocalSources,
  key: string | undefined,
): { dataset: string; url: string | null; license: string | null } {
  const named = key ? sources[key] : undefined;
  return {
    dataset: dataset.dataset,
    url: named?.url ?? dataset.url,
    license: named?.license ?? dataset.license,
  };
}
