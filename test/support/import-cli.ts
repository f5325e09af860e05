import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StorageConfig, SubgraphName } from '../../common/src/config';

const ROOT = join(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment that points `npm run import` at a test's own databases and at nothing configured
 * elsewhere: the given subgraphs' storage (a MySQL database URL each, or the folder of the SQLite files).
 */
export function importEnv(storage: Partial<Record<SubgraphName, StorageConfig>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.endsWith('DATABASE_URL') && k !== 'DATA_DIR'),
    ),
    LOG_LEVEL: 'warn',
  };
  for (const [name, s] of Object.entries(storage) as [SubgraphName, StorageConfig][]) {
    if (s.type === 'mysql')
      env[`${name.toUpperCase()}_DATABASE_URL`] = `${s.url.replace(/\/$/, '')}/${s.database}`;
    else env.DATA_DIR = join(s.path, '..');
  }
  return env;
}

/** Runs the import command as people do (`scripts/import.ts` through tsx) on these databases. */
export function runImportCli(
  storage: Partial<Record<SubgraphName, StorageConfig>>,
  args: readonly string[],
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'scripts', 'import.ts'), ...args],
      {
        cwd: ROOT,
        env: importEnv(storage),
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
