import cc from 'currency-codes';

/** The number of decimals of an ISO 4217 currency (TND: 3, MAD: 2, JPY: 0). Throws for an unknown code. */
export function currencyDigits(currency: string): number {
  const c = cc.code(currency);
  if (!c) throw new Error(`Unknown ISO 4217 currency code "${currency}"`);
  return c.digits;
}

/**
 * Parses an exact decimal string ("1437803.283", "-12", "0.5") into integer minor units of the currency.
 * Refuses more decimals than the currency has, and anything that is not a plain decimal number.
 */
export function toMinorUnits(amount: string, currency: string): bigint {
  const digits = currencyDigits(currency);
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`"${amount}" is not a decimal amount`);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > digits) {
    throw new Error(`"${amount}" has ${frac.length} decimals; ${currency} has ${digits}`);
  }
  const minor = BigInt(whole + frac.padEnd(digits, '0'));
  return sign ? -minor : minor;
}

/** Formats integer minor units as an exact decimal string with the currency's decimals ("1437803.283"). */
export function fromMinorUnits(minor: bigint | string | number, currency: string): string {
  const digits = currencyDigits(currency);
  const v = toBigInt(minor);
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(digits + 1, '0');
  const out = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return neg ? `-${out}` : out;
}

/**
 * Normalizes what a driver returns for a BIGINT (MySQL: string; SQLite: number) to a bigint. A number beyond
 * 2^53 has already lost precision, so it is refused rather than silently rounded.
 */
export function toBigInt(v: bigint | string | number): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`Integer ${v} is beyond exact range`);
    return BigInt(v);
  }
  if (!/^-?\d+$/.test(v)) throw new Error(`"${v}" is not an integer`);
  return BigInt(v);
}

/** The GraphQL Money shape. */
export interface Money {
  amount: string;
  currency: string;
}

export function money(minor: bigint | string | number, currency: string): Money {
  return { amount: fromMinorUnits(minor, currency), currency };
}
