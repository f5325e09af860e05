import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Helpers for the command lines (npm run keys, npm run persisted:..., npm run subgraph:...). */

/** The exit status of a wrong command line (sysexits.h's EX_USAGE). */
export const EX_USAGE = 64;

/** A wrong command line: its message is printed above the command's usage, and the exit status is 64. */
export class UsageError extends Error {}

/**
 * Runs one command of a command line and says how it ended: 0 done, 1 refused or failed (the error's message
 * written to `err`), {@link EX_USAGE} for a {@link UsageError} (its message, then `usage`).
 */
export async function exitStatus(
  run: () => Promise<number>,
  usage: string,
  io: { err(text: string): void },
): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${usage}`);
      return EX_USAGE;
    }
    io.err(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

/** A plain-text table: the header and the rows, each column as wide as its widest cell, two spaces between. */
export function textTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A command line read strictly with these options: its values, its first positional argument (the command) and
 * the rest. A wrong option or value is thrown as `usageError(message)`.
 */
export function parseCommandLine(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usageError: (message: string) => Error,
): { values: Record<string, string | boolean | undefined>; command: string | undefined; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const [command, ...args] = parsed.positionals;
  return { values: parsed.values as Record<string, string | boolean | undefined>, command, args };
}
