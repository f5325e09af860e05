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
