import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StorageConfig } from '@civic/common/config';
import type { SubgraphName } from '@civic/subgraphs/catalog';

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
  return runScript('import.ts', storage, args);
}

/** Runs `npm run seed`'s script (`scripts/seed.ts` through tsx) on these databases. */
export function runSeedCli(storage: Partial<Record<SubgraphName, StorageConfig>>): Promise<CliResult> {
  return runScript('seed.ts', storage, []);
}

function runScript(
  script: string,
  storage: Partial<Record<SubgraphName, StorageConfig>>,
  args: readonly string[],
): Promise<CliResult> {
  return runTsxScript(script, args, importEnv(storage));
}

/**
 * Runs `scripts/<script>` as `npm run` does (through tsx, in a child process, from the project's root) with
 * these arguments and this environment: its exit status and all it wrote.
 */
export function runTsxScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', script), ...args], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A row of the organizations table as `SELECT *` returns it (the import tests compare them). */
export interface OrganizationRow {
  id: string;
  kind: string;
  classification: string | null;
  country: string | null;
  parent_id: string | null;
  name_ar: string | null;
  name_fr: string | null;
  name_en: string | null;
  name_es: string | null;
  ogp_membership_type: string | null;
  ogp_joined: string | null;
  source_dataset: string;
  source_url: string | null;
  source_license: string | null;
  source_record: string | null;
  source_file: string | null;
  source_checksum: string | null;
  source_line: number | string | null;
  imported_at: string | null;
  row_digest: string | null;
}
