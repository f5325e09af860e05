import { FileRefused, readCsv, type CsvColumn } from '@civic/common/import/csv';
import { fileFacts, type FileFacts } from '@civic/common/import/file';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import type { Package } from './package';
import type { Resource } from './resources';

/** A row as read: which resource, its line there, its values by field (every column of the resource). */
export interface FdpRow {
  resource: number;
  line: number;
  values: Record<string, string>;
}

/**
 * Where a column the model does not read is filed in a row's values: under its header, apart from the model's
 * fields (a header never starts with a NUL). They are read only to tell rows identical in every column.
 */
const OTHER_COLUMN = '\u0000';

/** The columns a resource must have: every model field read from it (measures, codes, labels, the year). */
function resourceColumns(pkg: Package, r: Resource): CsvColumn[] {
  const fields = new Set<string>();
  const from = (x: { source: string | null; resource: string | null }) => {
    if (x.source !== null && (x.resource === null || x.resource === r.name)) fields.add(x.source);
  };
  pkg.measures.forEach(from);
  for (const d of pkg.dimensions)
    for (const l of d.levels) {
      from(l.attr);
      l.labels.forEach((x) => from(x.attr));
    }
  if (pkg.yearFrom) from(pkg.yearFrom.attr);
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
        {
          columns: resourceColumns(pkg, r),
          delimiter: r.delimiter,
          extra: (header) => (header ? OTHER_COLUMN + header : null),
        },
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
