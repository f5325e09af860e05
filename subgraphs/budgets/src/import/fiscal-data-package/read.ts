import { FileRefused, readCsv, type CsvColumn } from '@civic/common/import/csv';
import { fileFacts, type FileFacts } from '@civic/common/import/file';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import type { Package } from './package';
import type { Resource } from './resources';

/** A row as read: which resource, its line there, its values by field. */
export interface FdpRow {
  resource: number;
  line: number;
  values: Record<string, string>;
}

/** The columns a resource must have: every model field read from it. */
function resourceColumns(pkg: Package, r: Resource): CsvColumn[] {
  const fields = new Set<string>();
  const from = (x: { source: string | null; resource: string | null }) => {
    if (x.source !== null && (x.resource === null || x.resource === r.name)) fields.add(x.source);
  };
  pkg.measures.forEach(from);
  pkg.code.forEach(from);
  pkg.labels.forEach((l) => from(l.attr));
  if (pkg.date) from(pkg.date);
  return [...fields].map((name) => ({ name, required: true }));
}

/**
 * The rows of every resource of a package, in order. A row's pipeline line runs on across resources (each
 * starts after the last line of the one before), so lines stay increasing for the checkpoint; the row keeps
 * its own resource and line for the records and issues it cites. A resource that is missing, or that the
 * CSV reader refuses, refuses the package, naming the resource.
 */
export async function* readPackageRows(
  pkg: Package,
  ctx: ImportContext,
  resourceFacts: ReadonlyMap<string, FileFacts>,
): AsyncGenerator<SourceRow<FdpRow>> {
  let offset = 0;
  for (const [index, r] of pkg.resources.entries()) {
    const facts =
      resourceFacts.get(r.path) ??
      (await fileFacts(r.path).catch(() => {
        throw new FileRefused({
          line: null,
          column: null,
          value: r.relative,
          reason: `resource ${r.name}: no file ${r.display}`,
        });
      }));
    let last = 0;
    try {
      for await (const rec of readCsv(
        r.path,
        r.display,
        facts,
        { columns: resourceColumns(pkg, r), delimiter: r.delimiter },
        ctx,
      )) {
        last = rec.line;
        yield { line: offset + rec.line, data: { resource: index, line: rec.line, values: rec.values } };
      }
    } catch (err) {
      if (err instanceof FileRefused)
        throw new FileRefused({ ...err.issue, reason: `${r.display}: ${err.issue.reason}` });
      throw err;
    }
    offset += last + 1;
  }
}
