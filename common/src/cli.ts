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

/** What one command of a command line accepts: its options, and how many positional arguments (at least, at most). */
export interface CommandShape {
  options: readonly string[];
  min: number;
  max: number;
}

/**
 * Checks a parsed command line against what its commands accept, in this order, each refusal a
 * {@link UsageError}: a command given and known; no more positional arguments than it takes; no fewer (then
 * `missing(command)` says what is needed); no option it does not take (named `title(command)` in the message).
 */
export function checkCommand(
  parsed: { command: string | undefined; values: Record<string, unknown>; args: string[] },
  accepts: Record<string, CommandShape>,
  words: { title(command: string): string; missing(command: string): string },
): string {
  const { command, values, args } = parsed;
  const shape = command ? accepts[command] : undefined;
  if (!command || !shape) {
    const names = Object.keys(accepts);
    const expected = `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
    throw new UsageError(
      command ? `Unknown command "${command}": expected ${expected}.` : 'No command given.',
    );
  }
  if (args.length > shape.max) throw new UsageError(`Unexpected argument "${args[shape.max]}".`);
  if (args.length < shape.min) throw new UsageError(words.missing(command));
  const extra = Object.keys(values).filter((k) => values[k] !== undefined && !shape.options.includes(k));
  if (extra.length) throw new UsageError(`${words.title(command)} does not take --${extra[0]}.`);
  return command;
}
