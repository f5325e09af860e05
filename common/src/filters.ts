import { badInput } from './errors';

/** Validates a country argument: ISO 3166-1 alpha-2, case-insensitive; returns it upper-cased. */
export function countryFilter(value: string, argument: string): string {
  const v = value.trim();
  if (!/^[A-Za-z]{2}$/.test(v)) {
    throw badInput(
      `Argument "${argument}" must be an ISO 3166-1 alpha-2 country code such as "MA" or "TN"; got "${value}"`,
      argument,
    );
  }
  return v.toUpperCase();
}

/** The escape character of {@link likePattern}: '!' means the same on MySQL and SQLite (a backslash does not). */
export const LIKE_ESCAPE = '!';

/** A `LIKE` pattern matching text anywhere, with the wildcards of the text itself escaped. */
export function likePattern(text: string, anchor: 'contains' | 'prefix' = 'contains'): string {
  const escaped = text.replace(/[!%_]/g, (c) => LIKE_ESCAPE + c);
  return anchor === 'prefix' ? `${escaped}%` : `%${escaped}%`;
}
