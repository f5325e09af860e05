import { currencyDigits } from '@civic/common/money';
import type { BudgetDirection, BudgetPhase } from '../../entities/Budget';
import { isObject, PackageRefused, str, type Json, type Params } from './descriptor';

/*
 * The package's model (Fiscal Data Package 0.3): its measures (the amounts, with currency, factor, direction
 * and phase) and its dimensions' attributes and primary keys. Which dimension gives the line code is
 * classification.ts's; which gives the fiscal year is dateAttribute's here.
 */

/** A measure's `direction`, and the --direction option, to a line direction. */
export const DIRECTIONS: Record<string, BudgetDirection> = { expenditure: 'EXPENDITURE', revenue: 'REVENUE' };
/** A measure's `phase`, and the --phase option, to an amount's phase. */
export const PHASES: Record<string, BudgetPhase> = {
  proposed: 'PROPOSED',
  approved: 'APPROVED',
  adjusted: 'ADJUSTED',
  executed: 'EXECUTED',
};

/** A value read from a row: a CSV field, or a constant for every row. */
export interface Attr {
  key: string;
  source: string | null;
  constant: string | null;
  resource: string | null;
}

/** An attribute with the attribute it labels (`labelfor`), as a dimension declares it. */
export type DimensionAttr = Attr & { labelfor: string | null };

/** A measure: the column of one amount of a line, in major units of its currency. */
export interface Measure {
  key: string;
  source: string;
  resource: string | null;
  currency: string;
  factor: bigint;
  direction: BudgetDirection;
  phase: BudgetPhase;
}

/** A dimension of the model, by key (dimensions that are not objects are left out). */
export type Dimension = [key: string, d: Json];

/**
 * The model's measures and dimensions, each checked to be a non-empty object. Many published packages (those
 * of OpenSpending's demo collection among them) describe it under `mapping`, its earlier name: read the same,
 * with a warning, since the messages then say `model` for what the file calls `mapping`.
 */
export function modelOf(json: Json, warnings: string[]): { measures: Json; dimensions: Dimension[] } {
  const underMapping = !isObject(json.model) && isObject(json.mapping);
  const model = underMapping ? json.mapping : json.model;
  if (!isObject(model))
    throw new PackageRefused(
      'model',
      null,
      'the package has no model (Fiscal Data Package 0.3: "model", or "mapping")',
    );
  if (underMapping) warnings.push('the model is under "mapping" (its earlier name): read as "model"');
  if (!isObject(model.measures) || !Object.keys(model.measures).length)
    throw new PackageRefused('model.measures', null, 'the model has no measures');
  if (!isObject(model.dimensions) || !Object.keys(model.dimensions).length)
    throw new PackageRefused('model.dimensions', null, 'the model has no dimensions');
  const dimensions = Object.entries(model.dimensions).filter((e): e is Dimension => isObject(e[1]));
  return { measures: model.measures, dimensions };
}

/** A field's `resource`: one of the package's resource names, or null (read from every resource). */
function resourceOf(v: unknown, at: string, resourceNames: ReadonlySet<string>): string | null {
  const r = str(v);
  if (r !== null && !resourceNames.has(r)) throw new PackageRefused(at, r, 'no resource has this name');
  return r;
}

/**
 * The model's measures and their one currency. A budget has one currency, so measures in several are
 * refused; two measures of the same direction and phase would fill one amount slot twice, so they are too.
 */
export function readMeasures(
  measures: Json,
  params: Params,
  resourceNames: ReadonlySet<string>,
): { measures: Measure[]; currency: string } {
  const read = Object.entries(measures).map(([key, m]) => readMeasure(key, m, params, resourceNames));
  const currencies = [...new Set(read.map((m) => m.currency))];
  if (currencies.length > 1)
    throw new PackageRefused(
      'model.measures',
      currencies.join(', '),
      'measures in several currencies: a budget has one currency (import one package per currency)',
    );
  const slots = new Map<string, string>();
  for (const m of read) {
    const k = `${m.direction} ${m.phase}`;
    const other = slots.get(k);
    if (other)
      throw new PackageRefused(
        `model.measures.${m.key}`,
        null,
        `measures ${other} and ${m.key} are both ${k.toLowerCase()}`,
      );
    slots.set(k, m.key);
  }
  return { measures: read, currency: currencies[0] };
}

function readMeasure(key: string, m: unknown, params: Params, resourceNames: ReadonlySet<string>): Measure {
  const at = `model.measures.${key}`;
  if (!isObject(m)) throw new PackageRefused(at, null, 'a measure must be an object');
  const src = str(m.source);
  if (!src) throw new PackageRefused(`${at}.source`, null, 'a measure needs a source field');
  const currency = measureCurrency(at, m);
  const f = m.factor ?? 1;
  if (typeof f !== 'number' || !Number.isSafeInteger(f) || f < 1)
    throw new PackageRefused(`${at}.factor`, String(f), 'factor must be a positive whole number (e.g. 1000)');
  const dir = str(m.direction);
  const direction =
    dir === null ? (params.direction ? DIRECTIONS[params.direction] : null) : DIRECTIONS[dir.toLowerCase()];
  if (!direction)
    throw new PackageRefused(
      `${at}.direction`,
      dir,
      dir === null
        ? 'the measure has no direction: give --direction expenditure|revenue'
        : 'direction must be expenditure or revenue',
    );
  const ph = str(m.phase);
  const phase = ph === null ? (params.phase ? PHASES[params.phase] : null) : PHASES[ph.toLowerCase()];
  if (!phase)
    throw new PackageRefused(
      `${at}.phase`,
      ph,
      ph === null
        ? 'the measure has no phase: give --phase proposed|approved|adjusted|executed'
        : 'phase must be proposed, approved, adjusted or executed',
    );
  const resource = resourceOf(m.resource, `${at}.resource`, resourceNames);
  return { key, source: src, resource, currency, factor: BigInt(f), direction, phase };
}

/** A measure's currency, upper case: an ISO 4217 code whose minor unit is known. */
function measureCurrency(at: string, m: Json): string {
  const rawCurrency = str(m.currency);
  if (!rawCurrency) throw new PackageRefused(`${at}.currency`, null, 'a measure needs a currency (ISO 4217)');
  const currency = rawCurrency.toUpperCase();
  try {
    if (!/^[A-Z]{3}$/.test(currency)) throw new Error();
    currencyDigits(currency);
  } catch {
    throw new PackageRefused(
      `${at}.currency`,
      rawCurrency,
      `unknown currency "${rawCurrency}": not an ISO 4217 code`,
    );
  }
  return currency;
}

/** A dimension's attributes, each a source field or a constant. */
export function attributesOf(key: string, d: Json, resourceNames: ReadonlySet<string>): DimensionAttr[] {
  if (!isObject(d.attributes) || !Object.keys(d.attributes).length)
    throw new PackageRefused(`model.dimensions.${key}.attributes`, null, 'a dimension needs attributes');
  return Object.entries(d.attributes).map(([ak, a]): DimensionAttr => {
    const at = `model.dimensions.${key}.attributes.${ak}`;
    if (!isObject(a)) throw new PackageRefused(at, null, 'an attribute must be an object');
    const source = str(a.source);
    const constant = a.constant === undefined || a.constant === null ? null : String(a.constant);
    if (source === null && constant === null)
      throw new PackageRefused(at, null, 'an attribute needs a source or a constant');
    return {
      key: ak,
      source,
      constant,
      resource: resourceOf(a.resource, `${at}.resource`, resourceNames),
      labelfor: str(a.labelfor),
    };
  });
}

/** A dimension's primaryKey attributes, in order (each one of its attributes). */
export function primaryKey(key: string, d: Json, attrs: readonly { key: string }[]): string[] {
  const pk =
    typeof d.primaryKey === 'string' ? [d.primaryKey] : Array.isArray(d.primaryKey) ? d.primaryKey : [];
  if (!pk.length)
    throw new PackageRefused(`model.dimensions.${key}.primaryKey`, null, 'a dimension needs a primaryKey');
  for (const k of pk)
    if (!attrs.some((a) => a.key === k))
      throw new PackageRefused(
        `model.dimensions.${key}.primaryKey`,
        String(k),
        "not one of the dimension's attributes",
      );
  return pk.map(String);
}

const DATE_DIMENSIONS = ['date', 'fiscalyear', 'fiscal-year', 'fiscal_year', 'year'];
const YEAR_ATTRIBUTES = ['year', 'fiscalyear', 'fiscal_year', 'fiscal-year'];

/**
 * The attribute giving each row's fiscal year: of the first `datetime` dimension (or one named date,
 * fiscalYear, year), the attribute named year or fiscalYear, else its primary key, else its first. Null when
 * the model has no such dimension (the year then comes from --year or the fiscal period).
 */
export function dateAttribute(
  dimensions: readonly Dimension[],
  resourceNames: ReadonlySet<string>,
): Attr | null {
  const dateDims = dimensions.filter(
    ([key, d]) =>
      str(d.dimensionType)?.toLowerCase() === 'datetime' || DATE_DIMENSIONS.includes(key.toLowerCase()),
  );
  if (!dateDims.length) return null;
  const [key, d] = dateDims[0];
  const attrs = attributesOf(key, d, resourceNames);
  const byName = attrs.find((a) => YEAR_ATTRIBUTES.includes(a.key.toLowerCase()));
  const pkd =
    typeof d.primaryKey === 'string'
      ? d.primaryKey
      : Array.isArray(d.primaryKey)
        ? String(d.primaryKey[0])
        : null;
  return byName ?? attrs.find((a) => a.key === pkd) ?? attrs[0];
}
