import { badInput } from './errors';

/*
 * Range arguments (`{ min, max }` of years or amounts), checked the same way by every subgraph: each end on
 * its own (naming `<argument>.min` or `.max`), then min <= max (naming the range). Either end may be open.
 * Runs no statement, so a bad range is refused before any SQL.
 */

/** A range argument as GraphQL hands it over: either end absent or null. */
export interface RangeInput<V> {
  min?: V | null;
  max?: V | null;
}

/** A checked range: each end a value or null (open). */
export interface Range<V> {
  min: V | null;
  max: V | null;
}

/** The years a year range may name: the four digits an ISO 8601 date starts with. */
export const MIN_YEAR = 0;
export const MAX_YEAR = 9999;

/**
 * Checks a range argument: `checkEnd` refuses a bad end (it gets the end's own argument name), then a min
 * greater than max is refused naming the range. Returns null for an absent range. The one checker behind
 * {@link yearRange} and {@link decimalRange}, so every range argument is refused alike.
 */
export function checkRange<V>(
  range: RangeInput<V> | null | undefined,
  argument: string,
  compare: (a: V, b: V) => number,
  checkEnd: (value: V, argument: string) => void = () => {},
): Range<V> | null {
  if (!range) return null;
  const min = range.min ?? null;
  const max = range.max ?? null;
  if (min !== null) checkEnd(min, `${argument}.min`);
  if (max !== null) checkEnd(max, `${argument}.max`);
  if (min !== null && max !== null && compare(min, max) > 0) {
    throw badInput(
      `Argument "${argument}" has min ${String(min)} greater than max ${String(max)}: expected min <= max`,
      argument,
    );
  }
  return { min, max };
}

/** Refuses a year outside {@link MIN_YEAR}..{@link MAX_YEAR}. */
function checkYear(year: number, argument: string): void {
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw badInput(
      `Argument "${argument}" must be a year from ${MIN_YEAR} to ${MAX_YEAR}; got ${year}`,
      argument,
    );
  }
}

/**
 * Checks a range of years (an `IntRange` of fiscal, start or end years): each end a year from 0 to 9999,
 * min <= max. Commitments and budgets both filter by years this way.
 */
export function yearRange(
  range: RangeInput<number> | null | undefined,
  argument: string,
): Range<number> | null {
  return checkRange(range, argument, (a, b) => a - b, checkYear);
}

/** An exact decimal string: an optional minus sign, digits, optionally a point and more digits. */
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Whether a string is an exact decimal as amounts are written ("12500", "-12500.250"). */
export const isDecimal = (value: string): boolean => DECIMAL.test(value);

/** Refuses an amount that is not an exact decimal string. */
export function checkDecimal(value: string, argument: string): void {
  if (!isDecimal(value)) {
    throw badInput(
      `Argument "${argument}" must be an exact decimal string such as "12500" or "-12500.250" (digits, an optional sign and decimal point, nothing else); got "${value}"`,
      argument,
    );
  }
}

/** The parts of an exact decimal string already checked by {@link checkDecimal}. */
export function decimalParts(value: string): { negative: boolean; whole: string; fraction: string } {
  const m = DECIMAL.exec(value);
  if (!m) throw new Error(`Not an exact decimal string: "${value}"`);
  return { negative: m[1] !== undefined, whole: m[2], fraction: m[3] ?? '' };
}

/** Compares two exact decimal strings without any float (money never passes through one). */
export function compareDecimals(a: string, b: string): number {
  const scaled = (v: string, digits: number) => {
    const { negative, whole, fraction } = decimalParts(v);
    const n = BigInt(whole + fraction.padEnd(digits, '0'));
    return negative ? -n : n;
  };
  const digits = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const x = scaled(a, digits);
  const y = scaled(b, digits);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Checks a range of amounts given as exact decimal strings: each end one, min <= max (compared exactly). */
export function decimalRange(
  range: RangeInput<string> | null | undefined,
  argument: string,
): Range<string> | null {
  return checkRange(range, argument, compareDecimals, checkDecimal);
}
