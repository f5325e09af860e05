import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The environment of `npm start`'s script run as a child process by a test or a bench: this run's environment,
 * then `extra`, on the embedded SQLite files of `dataDir` (DATABASE_URL dropped unless `extra` gives one), every
 * port 0 (each service says where it listens), on 127.0.0.1, logging at info.
 */
export function npmStartEnvironment(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    DATA_DIR: dataDir,
    GATEWAY_PORT: '0',
    ORGANIZATIONS_PORT: '0',
    COMMITMENTS_PORT: '0',
    BUDGETS_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  if (!extra.DATABASE_URL) delete env.DATABASE_URL;
  return env;
}

/**
 * `npm start`'s script as package.json gives it, for `spawn`: this Node for its leading `node`, then its
 * arguments (`--max-old-space-size=…`, `--import tsx`, the entry). Tests run what people run, so a change to the
 * script (once `tsx scripts/start.ts`, whose signal relay turned a slow SIGINT into a SIGKILL) is what they test.
 */
export function npmStartCommand(): { command: string; args: string[] } {
  const script: string = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).scripts
    .start;
  const [program, ...args] = script.trim().split(/\s+/);
  if (program !== 'node') throw new Error(`npm start's script does not start with node: ${script}`);
  return { command: process.execPath, args };
}
