import type { ImportIssue } from '@civic/common/import/report';
import { currencyDigits } from '@civic/common/money';
import type { Measure } from './model';

/*
 * Amounts exact in their currency: a measure's decimal string in major units, times its factor (itself an exact
 * decimal: 1000, 0.001, 1e3), to an integer number of the currency's minor unit, as a string. No float ever
 * touches an amount: both are read into BigInt digits and a power of ten.
 */

/** An exact decimal: `digits` × 10^-`scale` (scale may be negative: 1e3 is 1 × 10^3). */
export interface Decimal {
  digits: bigint;
  scale: number;
}

/** A plain decimal or one in exponent notation (Table Schema numbers allow both): `-12`, `0.5`, `.5`, `1.5E+7`. */
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/** A decimal string to an exact Decimal, or null when it is not one. */
export function parseDecimal(text: string): Decimal | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const [, sign, whole = '', frac = '', exp = '0'] = m;
  if (whole === '' && frac === '') return null;
  const digits = BigInt(`${whole}${frac}` || '0');
  return { digits: sign === '-' ? -digits : digits, scale: frac.length - Number(exp) };
}

/**
 * A JSON number (or numeric text) of the descriptor, such as a measure's `factor`, as an exact Decimal: the
 * shortest text that reads back as the same double (`0.001`, `1e-7`), which is what the descriptor wrote.
 */
export function decimalOfJson(v: unknown): Decimal | null {
  if (typeof v === 'number') return Number.isFinite(v) ? parseDecimal(String(v)) : null;
  if (typeof v === 'string') return parseDecimal(v.trim());
  return null;
}

/** A Decimal as text for people (`1000`, `0.001`). */
export function decimalText(d: Decimal): string {
  const neg = d.digits < 0n;
  const abs = (neg ? -d.digits : d.digits).toString();
  let out: string;
  if (d.scale <= 0) out = abs + '0'.repeat(-d.scale);
  else {
    const padded = abs.padStart(d.scale + 1, '0');
    out = `${padded.slice(0, -d.scale)}.${padded.slice(-d.scale)}`.replace(/\.?0+$/, '');
  }
  return neg ? `-${out}` : out;
}

/** How a measure's column writes its numbers: Table Schema's `decimalChar` and `groupChar`, and its type. */
export interface NumberFormat {
  decimalChar: string;
  groupChar: string | null;
  /** The schema types the field `integer`: a comma in it can only group digits. */
  integer: boolean;
}

export const PLAIN_NUMBERS: NumberFormat = { decimalChar: '.', groupChar: null, integer: false };

/**
 * Cells that say there is no figure, as budget tables print them: a dash (nil), `nfp` (not for publication,
 * Australia's budget papers), `n/a`, `..` (not available, statistical tables). Read as an empty cell, each
 * with a warning: they state that the source gives no figure there, not a number to guess.
 */
const NO_FIGURE = /^(?:-|–|—|nfp|n\.f\.p\.|n\/a|\.\.)$/i;

/** A comma-grouped integer (`85,817`, `1,234,567`): in a column typed integer, only grouping reads so. */
const COMMA_GROUPED = /^[+-]?\d{1,3}(?:,\d{3})+$/;

/** One cell's figure: its minor units, no figure (an empty or no-figure cell), or why it is refused. */
export type Cell =
  { minor: string; warning?: string } | { minor: null; warning?: string } | { reason: string };

/**
 * A cell in major units to minor units of its measure's currency (times its factor), or why not: more decimals
 * than the currency has (after the factor) or anything but a number is refused.
 */
export function readCell(raw: string, m: Measure): Cell {
  const v = raw.trim();
  if (v === '') return { minor: null };
  if (NO_FIGURE.test(v))
    return {
      minor: null,
      warning: `"${v}" marks a cell with no figure (nil, not for publication or not available): no amount`,
    };
  let text = v;
  let warning: string | undefined;
  if (m.format.groupChar !== null) text = text.split(m.format.groupChar).join('');
  else if (m.format.integer && COMMA_GROUPED.test(text)) {
    text = text.replace(/,/g, '');
    warning = `"${v}" has its digits grouped by commas in a column the schema types integer: read as ${text}`;
  }
  if (m.format.decimalChar !== '.') text = text.split(m.format.decimalChar).join('.');
  const d = parseDecimal(text);
  if (!d) return { reason: `"${v}" is not a decimal amount` };
  const exact = toMinor(d, m);
  if (exact === null) {
    const digits = currencyDigits(m.currency);
    const decimals = Math.max(0, d.scale);
    return {
      reason:
        m.factor.digits === 1n && m.factor.scale === 0
          ? `"${v}" has ${decimals} decimals; ${m.currency} has ${digits}`
          : `"${v}" × ${decimalText(m.factor)} has more decimals than ${m.currency}'s ${digits}`,
    };
  }
  return warning ? { minor: exact, warning } : { minor: exact };
}

/** value × factor in minor units of the measure's currency, or null when that is not a whole number of them. */
function toMinor(value: Decimal, m: Measure): string | null {
  const digits = value.digits * m.factor.digits;
  // The product is digits × 10^-(scale), and minor units are 10^-(currency digits) each.
  const shift = value.scale + m.factor.scale - currencyDigits(m.currency);
  if (shift <= 0) return (digits * 10n ** BigInt(-shift)).toString();
  const div = 10n ** BigInt(shift);
  return digits % div === 0n ? (digits / div).toString() : null;
}

/** One figure of a row: the measure it is in, and its value in minor units. */
export interface Figure {
  m: Measure;
  minor: string;
}

/**
 * A row's figures, in the measures' order; a measure of another resource, or an empty or no-figure cell,
 * gives none. Refusals are pushed to `problems`, warnings (a no-figure mark, grouped digits) to `warnings`.
 */
export function rowFigures(
  measures: readonly Measure[],
  resource: string,
  values: Readonly<Record<string, string>>,
  issue: (column: string | null, value: unknown, reason: string) => ImportIssue,
  problems: ImportIssue[],
  warnings: ImportIssue[],
): Figure[] {
  const out: Figure[] = [];
  for (const m of measures) {
    if (m.resource !== null && m.resource !== resource) continue;
    const raw = values[m.source] ?? '';
    const cell = readCell(raw, m);
    if ('reason' in cell) problems.push(issue(m.source, raw, cell.reason));
    else {
      if (cell.warning) warnings.push(issue(m.source, raw, cell.warning));
      if (cell.minor !== null) out.push({ m, minor: cell.minor });
    }
  }
  return out;
}
