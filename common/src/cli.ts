import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Helpers for the command lines (npm run keys, npm run subgraph:...). */

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
