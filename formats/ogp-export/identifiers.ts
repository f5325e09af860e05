import type { ImportContext } from '@civic/common/import/pipeline';
import { ogpRowId } from './row';

/**
 * The identifiers an import has read so far and where: a second row with one is refused as a duplicate with
 * the words the pipeline uses for a duplicate key, by both parts of the import alike, whichever batch the
 * first row was in. Holds one entry per commitment (a few bytes each).
 */
export class OgpIdentifiers {
  private readonly lines = new Map<string, number>();
  private readonly refusedIds = new Set<string>();

  /** Records a valid row's id; false (and the row refused through `ctx`) when an earlier row had it. */
  accept(id: string, line: number, ctx: Pick<ImportContext, 'refuse' | 'issue'>): boolean {
    const first = this.lines.get(id);
    if (first !== undefined) {
      ctx.refuse([ctx.issue(line, null, id, `duplicate key: the same record as line ${first}`)]);
      return false;
    }
    this.lines.set(id, line);
    return true;
  }

  /**
   * Refused rows whose identifier is unknown (no identifier, or a record the CSV reader could not read): any
   * of them may be the row of a stored commitment, so --prune must not take their absence for a removal.
   */
  unidentified = 0;

  /** Remembers the id of a refused row: it is in the file, so not "missing", and never pruned. */
  refused(values: Readonly<Record<string, string>>): void {
    const id = ogpRowId((c) => values[c] ?? '');
    if (!id) this.unidentified += 1;
    else if (!this.lines.has(id)) this.refusedIds.add(id);
  }

  /** Ids of rows the file has but that were refused (and no valid row with the same id). */
  isRefused(id: string): boolean {
    return this.refusedIds.has(id) && !this.lines.has(id);
  }
}
