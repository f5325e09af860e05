import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  LOCK_WAIT_MS,
  sha256,
  type NewVersion,
  type RegistryEntry,
  type RegistryStore,
  type RegistryVersion,
} from './store';

/** A lock older than this is left over by a publisher that died (a publish holds it for about a second). */
const STALE_LOCK_MS = 60_000;
const LOCK_FILE = '.lock';

/**
 * The registry as a directory: `<name>.json` per partner subgraph, holding its current version and history
 * ({@link RegistryEntry}). Each document is written whole to a temporary file and renamed over the old one,
 * so a reader (a gateway polling) sees the old or the new document, never half of one. Publishers serialize
 * on `.lock`, created exclusively (`wx`); a lock whose holder died is taken over after a minute.
 * Replicas share it when the directory is shared (a volume); otherwise use the MySQL backend.
 */
export class DirectoryStore implements RegistryStore {
  private constructor(readonly dir: string) {}

  get location(): string {
    return `directory ${this.dir}`;
  }

  static async open(dir: string): Promise<DirectoryStore> {
    const abs = resolve(dir);
    mkdirSync(abs, { recursive: true });
    return new DirectoryStore(abs);
  }

  private async files(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.json')).sort();
  }

  /** File names, inodes, sizes and modification times: a rename (every write) changes the inode. */
  async revision(): Promise<string> {
    const parts: string[] = [];
    for (const f of await this.files()) {
      const s = await stat(join(this.dir, f)).catch(() => undefined);
      if (s) parts.push(`${f}:${s.ino}:${s.size}:${s.mtimeMs}`);
    }
    return parts.join('|');
  }

  async list(): Promise<RegistryEntry[]> {
    const entries: RegistryEntry[] = [];
    for (const f of await this.files()) {
      const entry = await this.read(f);
      if (entry) entries.push(entry);
    }
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async read(file: string): Promise<RegistryEntry | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, file), 'utf8')) as RegistryEntry;
    } catch (err) {
      // Removed between readdir and read.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`Registry document ${join(this.dir, file)} is unreadable: ${(err as Error).message}`);
    }
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(this.dir, LOCK_FILE);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, 'wx');
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date() }));
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
        if (age > STALE_LOCK_MS) {
          await rm(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `The registry in ${this.dir} stays locked by another publisher (${lock}); try again.`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }

  async put(next: NewVersion): Promise<RegistryEntry> {
    const file = `${next.name}.json`;
    const previous = await this.read(file);
    const { name, ...content } = next;
    const version: RegistryVersion = {
      ...content,
      version: (previous?.versions.at(-1)?.version ?? 0) + 1,
      sdlHash: sha256(next.sdl),
    };
    const entry: RegistryEntry = { name, ...version, versions: [...(previous?.versions ?? []), version] };
    const tmp = join(this.dir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, `${JSON.stringify(entry, null, 2)}\n`);
    await rename(tmp, join(this.dir, file));
    return entry;
  }

  async remove(name: string): Promise<boolean> {
    const path = join(this.dir, `${name}.json`);
    const existed = await stat(path).then(
      () => true,
      () => false,
    );
    await rm(path, { force: true });
    return existed;
  }

  async close(): Promise<void> {}
}
