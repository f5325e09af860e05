import { fold, isMissing, type Parsed } from './cells';

/*
 * The export's dates: US-formatted, day-first, Excel serials, month names in three languages, quarters and
 * seasons, read into ISO 8601 with the precision the source has.
 */

const MONTHS: Record<string, number> = {};
(
  [
    ['january', 'jan', 'enero', 'ene', 'janvier', 'janv'],
    ['february', 'feb', 'febrero', 'fevrier', 'fevr'],
    ['march', 'mar', 'marzo', 'mars'],
    ['april', 'apr', 'abril', 'abr', 'avril', 'avr'],
    ['may', 'mayo', 'mai'],
    ['june', 'jun', 'junio', 'juin'],
    ['july', 'jul', 'julio', 'juillet', 'juil'],
    ['august', 'aug', 'agosto', 'ago', 'aout'],
    ['september', 'sep', 'sept', 'septiembre', 'setiembre', 'set', 'septembre'],
    ['october', 'oct', 'octubre', 'octobre'],
    ['november', 'nov', 'noviembre', 'novembre'],
    ['december', 'dec', 'diciembre', 'dic', 'decembre'],
  ] as const
).forEach((names, i) => names.forEach((n) => (MONTHS[n] = i + 1)));
const MONTH_RE = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');

const QUARTERS: Record<string, number> = {};
(
  [
    ['i', '1', 'first', '1st', 'primer', '1er'],
    ['ii', '2', 'second', '2nd', 'segundo', '2e', '2eme'],
    ['iii', '3', 'third', '3rd', 'tercer', '3e', '3eme'],
    ['iv', '4', 'fourth', '4th', 'cuarto', '4e', '4eme'],
  ] as const
).forEach((names, i) => names.forEach((n) => (QUARTERS[n] = i + 1)));
const QUARTER_WORD = Object.keys(QUARTERS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const SEASONS =
  'spring|summer|autumn|fall|winter|primavera|verano|otono|invierno|printemps|ete|automne|hiver';
const YEAR_QUALIFIERS =
  'early|mid|late|end of|beginning of|start of|by|by the end of|principios de|mediados de|finales de|fines de|fin de|debut|fin|mi';

const pad = (n: number) => String(n).padStart(2, '0');
const validYear = (y: number) => y >= 1900 && y <= 2100;

function ymd(y: number, m: number, d: number): string | null {
  if (!validYear(y) || m < 1 || m > 12 || d < 1) return null;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days ? `${y}-${pad(m)}-${pad(d)}` : null;
}

/** Excel's day 0 is 1899-12-30 (Excel counts 1900 as a leap year, and its serial 60 is that fictional day). */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/**
 * Reads one of the export's messy dates into ISO 8601, with reduced precision where the source is less
 * precise ("2016-06", "2016"). Handled: M/D/YYYY (the sheet is US-formatted: "3/31/2020"), D/M/YYYY when the
 * first number cannot be a month ("28/5/2014"), two-digit years (20xx: OGP started in 2011), a bare year,
 * month names in English, Spanish or French ("June 2016", "junio de 2016", "30 de junio de 2016"), Excel
 * serial numbers ("43525" = 2019-03-01), and quarters, seasons or "mid/end of" a year, which are kept to
 * the year only: "III quarter of 2022" does not say which day or month, and the raw text is kept anyway.
 * Missing-value markers give null without a warning; anything else unreadable gives null with a warning.
 */
export function parseOgpDate(raw: string | null | undefined): Parsed<string> {
  if (isMissing(raw)) return { value: null, warning: null };
  const text = raw!.trim();
  const t = fold(text)
    .replace(/[,.]/g, (c) => (c === ',' ? ' ' : ''))
    .replace(/\s+/g, ' ')
    .trim();
  const ok = (value: string | null): Parsed<string> =>
    value ? { value, warning: null } : { value: null, warning: `invalid date "${text}"` };

  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    // Month first unless the first number cannot be a month.
    return a > 12 ? ok(ymd(y, b, a)) : ok(ymd(y, a, b));
  }
  if ((m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text))) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (m[3]) return ok(ymd(y, mo, Number(m[3])));
    return ok(validYear(y) && mo >= 1 && mo <= 12 ? `${y}-${pad(mo)}` : null);
  }
  if (/^\d{4}$/.test(text)) return ok(validYear(Number(text)) ? text : null);
  if (/^\d{5}$/.test(text)) {
    const serial = Number(text);
    // 36526..73050 is 2000-01-01..2099-12-31: a five-digit number outside it is not a plausible date here.
    if (serial < 36526 || serial > 73050) return { value: null, warning: `number "${text}" is not a date` };
    return { value: new Date(EXCEL_EPOCH + serial * 86400000).toISOString().slice(0, 10), warning: null };
  }
  const day = '(\\d{1,2})(?:st|nd|rd|th|er)?';
  if ((m = new RegExp(`^(?:${day} (?:de )?)?(${MONTH_RE}) (?:${day} )?(?:de |del |of )?(\\d{4})$`).exec(t))) {
    const y = Number(m[4]);
    const mo = MONTHS[m[2]];
    const d = m[1] ?? m[3];
    if (d) return ok(ymd(y, mo, Number(d)));
    return ok(validYear(y) ? `${y}-${pad(mo)}` : null);
  }
  if (
    (m = new RegExp(
      `^(?:(${QUARTER_WORD}) (?:quarter|qtr|trimestre)|(?:quarter|q|trimestre) ?(\\d))(?: of| de| del)? (\\d{4})$`,
    ).exec(t)) ||
    (m = /^()()(\d{4})[ -]?q[1-4]$/.exec(t))
  ) {
    const q = QUARTERS[m[1] || m[2] || '1'];
    return ok(q && validYear(Number(m[3])) ? m[3] : null);
  }
  if ((m = new RegExp(`^(?:${SEASONS}|${YEAR_QUALIFIERS})(?: of| de| del)? (\\d{4})$`).exec(t))) {
    return ok(validYear(Number(m[1])) ? m[1] : null);
  }
  return { value: null, warning: `unreadable date "${text}"` };
}
