import DataLoader from 'dataloader';
import { In, type ObjectLiteral, type Repository } from 'typeorm';

/** Largest key list a single `IN (...)` statement carries. Pages are capped at 100, so this is never hit by one page. */
export const MAX_BATCH = 1000;

/**
 * A per-request loader of entities by primary key: one `WHERE id IN (...)` per batch, results in key
 * order, `null` for a key that has no row (as the DataLoader contract asks).
 */
export function byIdLoader<T extends ObjectLiteral & { id: string }>(
  repo: Repository<T>,
  name: string,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(
    async (ids) => {
      const rows = await repo.findBy({ id: In([...ids]) } as never);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { name, maxBatchSize: MAX_BATCH },
  );
}

/**
 * A per-request loader of the rows that belong to each key (children by parent id): one
 * `WHERE <column> IN (...)` per batch, each key's rows in the order given by `orderBy`.
 */
export function groupLoader<T extends ObjectLiteral, K extends keyof T & string>(
  repo: Repository<T>,
  column: K,
  name: string,
  orderBy: Partial<Record<keyof T & string, 'ASC' | 'DESC'>> = {},
): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(
    async (keys) => {
      const rows = await repo.find({ where: { [column]: In([...keys]) } as never, order: orderBy as never });
      const groups = new Map<string, T[]>();
      for (const r of rows) {
        const k = String(r[column]);
        const arr = groups.get(k) ?? [];
        arr.push(r);
        groups.set(k, arr);
      }
      return keys.map((k) => groups.get(k) ?? []);
    },
    { name, maxBatchSize: MAX_BATCH },
  );
}

/** Loads many ids through a loader and drops the ones that no longer exist (a dangling reference). */
export async function loadExisting<T>(loader: DataLoader<string, T | null>, ids: string[]): Promise<T[]> {
  const rows = await loader.loadMany(ids);
  return rows.filter((r): r is T => r !== null && !(r instanceof Error));
}
