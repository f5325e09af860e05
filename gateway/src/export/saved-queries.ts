import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Where the saved queries are: one `<name>.graphql` file each, beside this module's directory. */
export const SAVED_QUERIES_DIR = join(__dirname, '..', 'saved-queries');

/** A named query journalists can export without writing GraphQL (`/export.csv?name=organizations`). */
export interface SavedQuery {
  /** The file's name without `.graphql`: `organizations`, `commitments`, `budget-lines`. */
  name: string;
  /** The whole document. */
  query: string;
  /** The `#` comment lines the file starts with: what it exports and which variables it takes. */
  description: string;
}

/**
 * Reads the saved queries, by name, sorted. Read once when the gateway is built: adding one is adding a
 * `.graphql` file (and a restart); `test/e2e/export.test.ts` runs every one of them.
 */
export function loadSavedQueries(dir: string = SAVED_QUERIES_DIR): ReadonlyMap<string, SavedQuery> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return new Map(
    files.map((file) => {
      const query = readFileSync(join(dir, file), 'utf8');
      const name = basename(file, '.graphql');
      const lines = query.split('\n');
      const end = lines.findIndex((line) => !line.startsWith('#'));
      const description = lines
        .slice(0, end < 0 ? lines.length : end)
        .map((line) => line.replace(/^#\s?/, ''))
        .join('\n');
      return [name, { name, query, description }];
    }),
  );
}
