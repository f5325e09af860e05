import type { ImportIssue } from '@civic/common/import/report';
import { currencyDigits, toMinorUnits } from '@civic/common/money';
import type { BudgetDirection } from '../../entities/Budget';
import type { IssueAt } from './classification';
import type { Measure } from './model';

/*
 * Amounts exact in their currency: a measure's decimal string in major units, times its factor, to an integer
 * number of the currency's minor unit, as a string. No float ever touches it.
 */

/** One amount of a row: the measure it is in, and its value in minor units. */
export interface Figure {
  m: Measure;
  minor: string;
}

/**
 * An amount in major units to minor units of its measure's currency (times its factor), or why not: more
 * decimals than the currency has (after the factor) or anything but a plain decimal number is refused.
 */
export function toMinor(v: string, m: Measure): string | { reason: string } {
  try {
    if (m.factor === 1n) return toMinorUnits(v, m.currency).toString();
    const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(v);
    if (!match) throw new Error(`"${v}" is not a decimal amount`);
    const [, sign, whole, frac = ''] = match;
    const digits = currencyDigits(m.currency);
    let value = BigInt(whole + frac) * m.factor;
    if (frac.length <= digits) value *= 10n ** BigInt(digits - frac.length);
    else {
      const div = 10n ** BigInt(frac.length - digits);
      if (value % div !== 0n)
        throw new Error(`"${v}" × ${m.factor} has more decimals than ${m.currency}'s ${digits}`);
      value /= div;
    }
    return (sign ? -value : value).toString();
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

/**
 * A row's amounts by direction: every direction the measures have is present (a line is written for it even
 * with no figure, so its amounts in the package's slots are replaced); a measure of another resource, or an
 * empty cell, gives no figure. Problems are pushed.
 */
export function rowAmounts(
  measures: readonly Measure[],
  resource: string,
  values: Readonly<Record<string, string>>,
  issue: IssueAt,
  problems: ImportIssue[],
): Map<BudgetDirection, Figure[]> {
  const amounts = new Map<BudgetDirection, Figure[]>();
  for (const m of measures) {
    if (!amounts.has(m.direction)) amounts.set(m.direction, []);
    if (m.resource !== null && m.resource !== resource) continue;
    const raw = values[m.source] ?? '';
    const v = raw.trim();
    if (v === '') continue;
    const minor = toMinor(v, m);
    if (typeof minor !== 'string') problems.push(issue(m.source, raw, minor.reason));
    else amounts.get(m.direction)!.push({ m, minor });
  }
  return amounts;
}
