/**
 * Runs `build` with these environment variables set (as in production, for what reads them when built),
 * then puts the environment back as it was.
 */
export async function withEnv<T>(env: Record<string, string>, build: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await build();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
