import { currencyDigits } from '@civic/common/money';
import type { BudgetDirection, BudgetPhase } from '../../entities/Budget';
import { decimalOfJson, PLAIN_NUMBERS, type Decimal, type NumberFormat } from './amounts';
import { columnTypeModel, hasColumnTypes, type TypedModel } from './columntypes';
import { isObject, PackageRefused, str, type Json, type Params } from './descriptor';

/*
 * The package's model (Fiscal Data Package 0.3, or derived from a 1.0 package's columnTypes): its measures (the figures, with currency, factor, direction,
 * phase and period) and its dimensions' attributes and code levels. What each dimension is, and which one
 * codes the lines, are dimensions.ts's and classification.ts's.
 */

/** The longest measure name a figure stores (budget_amounts.measure). */
const MAX_MEASURE = 64;

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

/** An attribute with the attribute it labels (`labelfor`) and its parent level (`parent`), as declared. */
export type DimensionAttr = Attr & { labelfor: string | null; parent: string | null };

/** A measure: the column of one figure of a line, in major units of its currency. */
export interface Measure {
  key: string;
  source: string;
  resource: string | null;
  currency: string;
  /** What the column's numbers are multiplied by, exactly (1000 for figures in thousands). */
  factor: Decimal;
  direction: BudgetDirection;
  phase: BudgetPhase;
  /**
   * The fiscal year of the measure's figures when the measure is a period (the wide layout: a column per year,
   * `2014-15` → 2014); null when the row's year is theirs.
   */
  period: number | null;
  /**
   * The figure's `measure` as stored: '' when no other measure shares its direction, phase, period and
   * currency (a figure per phase, as the Tunisian files and figures stored before measures were named), else
   * the measure's key, so that several measures of one phase are each their own figure.
   */
  name: string;
  /** How its column writes numbers (the resource schema's field). */
  format: NumberFormat;
}

/** A dimension of the model, by key (dimensions that are not objects are left out). */
export type Dimension = [key: string, d: Json];

/** The model as read: its measures and dimensions, and, derived from columnTypes (1.0), what 0.3 cannot say. */
export interface ModelOf {
  measures: Json;
  dimensions: Dimension[];
  /** The package is Fiscal Data Package 1.0: its model is derived from its fields' columnTypes. */
  typed: TypedModel | null;
}

/**
 * The model's measures and dimensions, each checked to be a non-empty object. Many published packages (those
 * of OpenSpending's demo collection among them) describe it under `mapping`, its earlier name: read the same,
 * with a warning, since the messages then say `model` for what the file calls `mapping`. A package without
 * one whose fields carry a `columnType` (Fiscal Data Package 1.0) has its model derived from them
 * (columntypes.ts); one with both is read by its model (OpenSpending's packager writes both, the same), warned.
 */
export function modelOf(json: Json, warnings: string[]): ModelOf {
  const underMapping = !isObject(json.model) && isObject(json.mapping);
  const model = underMapping ? json.mapping : json.model;
  const typed = hasColumnTypes(json);
  if (!isObject(model)) {
    if (typed) {
      const t = columnTypeModel(json, warnings);
      return { measures: t.measures, dimensions: t.dimensions, typed: t };
    }
    throw new PackageRefused(
      'model',
      null,
      'the package has no model (Fiscal Data Package 0.3: "model", or "mapping"; 1.0: a "columnType" on its fields)',
    );
  }
  if (underMapping) warnings.push('the model is under "mapping" (its earlier name): read as "model"');
  if (typed)
    warnings.push(
      `the package has both a ${underMapping ? '"mapping"' : '"model"'} (Fiscal Data Package 0.3) and fields typed by "columnType" (1.0): the model is read, the columnTypes are not`,
    );
  if (!isObject(model.measures) || !Object.keys(model.measures).length)
    throw new PackageRefused('model.measures', null, 'the model has no measures');
  if (!isObject(model.dimensions) || !Object.keys(model.dimensions).length)
    throw new PackageRefused('model.dimensions', null, 'the model has no dimensions');
  const dimensions = Object.entries(model.dimensions).filter((e): e is Dimension => isObject(e[1]));
  return { measures: model.measures, dimensions, typed: null };
}

/** A field's `resource`: one of the package's resource names, or null (read from every resource). */
function resourceOf(v: unknown, at: string, resourceNames: ReadonlySet<string>): string | null {
  const r = str(v);
  if (r !== null && !resourceNames.has(r)) throw new PackageRefused(at, r, 'no resource has this name');
  return r;
}

/** What reading the measures needs besides them: the options, the resources, the package's granularity. */
export interface MeasureContext {
  params: Params;
  resourceNames: ReadonlySet<string>;
  /** The resource schemas' fields by name (the first resource declaring a name wins). */
  fields: ReadonlyMap<string, Json>;
  granularity: string | null;
  /** Where each measure is declared when it is not under model.measures (a 1.0 field: `resources[0].schema.fields[3]`). */
  at?: ReadonlyMap<string, string>;
}

/**
 * The model's measures, in order. A measure that does not say its direction or phase takes the option's
 * (--direction, --phase), else an assumption the report explains: expenditure; executed for a transactional
 * package (payments), approved otherwise. Several measures may share a direction and phase (each its own
 * figure, warned about: a summary of the phase adds them) and may be in several currencies (a budget each).
 */
export function readMeasures(measures: Json, ctx: MeasureContext, warnings: string[]): Measure[] {
  const read = Object.entries(measures).map(([key, m]) => readMeasure(key, m, ctx));
  const assumedDirection = read.filter((m) => m.assumed.direction).map((m) => m.key);
  if (assumedDirection.length)
    warnings.push(
      `measure${plural(assumedDirection)} ${assumedDirection.join(', ')} ${assumedDirection.length > 1 ? 'say' : 'says'} no direction: taken as expenditure (give --direction revenue if they are revenue)`,
    );
  const assumedPhase = read.filter((m) => m.assumed.phase).map((m) => m.key);
  if (assumedPhase.length) {
    const executed = ctx.granularity === 'transactional';
    warnings.push(
      `measure${plural(assumedPhase)} ${assumedPhase.join(', ')} ${assumedPhase.length > 1 ? 'say' : 'says'} no phase: taken as ${executed ? 'executed (the package\'s granularity is "transactional": payments made)' : 'approved (the package\'s granularity is not "transactional")'}; give --phase to say otherwise`,
    );
  }
  const periods = read.filter((m) => m.period !== null);
  if (periods.length)
    warnings.push(
      `measure${plural(periods)} ${periods.map((m) => m.key).join(', ')} ${periods.length > 1 ? 'are periods' : 'is a period'} (the wide layout, a column per year): each figure goes to the budget of its period's fiscal year (the year it starts: ${periods[0].key} → ${periods[0].period}), a row giving one line per period`,
    );
  const groups = new Map<string, Measure[]>();
  for (const m of read) {
    const k = `${m.direction} ${m.phase} ${m.period ?? ''} ${m.currency}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  for (const g of groups.values()) {
    if (g.length === 1) continue;
    for (const m of g) m.name = m.key;
    warnings.push(
      `measures ${g.map((m) => m.key).join(', ')} are all ${g[0].direction.toLowerCase()} ${g[0].phase.toLowerCase()}${g[0].period === null ? '' : ` of ${g[0].period}`}: each is its own figure, named by its measure; a summary of the phase adds them unless it is filtered by measure`,
    );
  }
  return read.map(({ assumed: _, ...m }) => m);
}

const plural = (xs: readonly unknown[]) => (xs.length > 1 ? 's' : '');

/** A period a measure's key or source names: `2015`, `2014-15`, `2014-2015`, `2014/15` → its first year. */
export function periodOf(text: string): number | null {
  const m = /^(\d{4})(?:\s*[-/–]\s*(\d{2}|\d{4}))?$/.exec(text.trim());
  if (!m) return null;
  const start = Number(m[1]);
  if (start < 1900 || start > 2199) return null;
  if (m[2] !== undefined) {
    const end = m[2].length === 2 ? Math.floor(start / 100) * 100 + Number(m[2]) : Number(m[2]);
    // `2014-15` ends the year after it starts (1999-00 wraps the century); a range ends later than it starts.
    if (!(end > start || (m[2].length === 2 && end + 100 === start + 1))) return null;
  }
  return start;
}

type ReadMeasure = Measure & { assumed: { direction: boolean; phase: boolean } };

function readMeasure(key: string, m: unknown, ctx: MeasureContext): ReadMeasure {
  const at = ctx.at?.get(key) ?? `model.measures.${key}`;
  if (!isObject(m)) throw new PackageRefused(at, null, 'a measure must be an object');
  if (key.length > MAX_MEASURE)
    throw new PackageRefused(at, key, `a measure's name has at most ${MAX_MEASURE} characters`);
  const src = str(m.source);
  if (!src) throw new PackageRefused(`${at}.source`, null, 'a measure needs a source field');
  const currency = measureCurrency(at, m);
  const factor =
    m.factor === undefined || m.factor === null ? { digits: 1n, scale: 0 } : decimalOfJson(m.factor);
  if (!factor || factor.digits <= 0n)
    throw new PackageRefused(
      `${at}.factor`,
      String(m.factor),
      'factor must be a positive number (e.g. 1000 for figures in thousands, 0.001)',
    );
  const dir = str(m.direction);
  const direction =
    dir === null
      ? ctx.params.direction
        ? DIRECTIONS[ctx.params.direction]
        : 'EXPENDITURE'
      : DIRECTIONS[dir.toLowerCase()];
  if (!direction)
    throw new PackageRefused(`${at}.direction`, dir, 'direction must be expenditure or revenue');
  const ph = str(m.phase);
  const assumedPhase: BudgetPhase = ctx.granularity === 'transactional' ? 'EXECUTED' : 'APPROVED';
  const phase =
    ph === null ? (ctx.params.phase ? PHASES[ctx.params.phase] : assumedPhase) : PHASES[ph.toLowerCase()];
  if (!phase)
    throw new PackageRefused(`${at}.phase`, ph, 'phase must be proposed, approved, adjusted or executed');
  const resource = resourceOf(m.resource, `${at}.resource`, ctx.resourceNames);
  return {
    key,
    source: src,
    resource,
    currency,
    factor,
    direction,
    phase,
    period: periodOf(key) ?? periodOf(src),
    name: '',
    format: numberFormat(ctx.fields.get(src)),
    assumed: { direction: dir === null && !ctx.params.direction, phase: ph === null && !ctx.params.phase },
  };
}

/** The number format a resource schema's field declares (Table Schema `decimalChar`, `groupChar`, `type`). */
function numberFormat(field: Json | undefined): NumberFormat {
  if (!field) return PLAIN_NUMBERS;
  const decimalChar = typeof field.decimalChar === 'string' && field.decimalChar ? field.decimalChar : '.';
  const groupChar = typeof field.groupChar === 'string' && field.groupChar ? field.groupChar : null;
  return { decimalChar, groupChar, integer: str(field.type)?.toLowerCase() === 'integer' };
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

/** A dimension's attributes, each a source field or a constant, in the order the descriptor gives them. */
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
      parent: str(a.parent),
    };
  });
}

/**
 * A dimension's code attributes, top level first: its primaryKey attributes in order, each preceded by the
 * attributes its `parent` chain names that the primaryKey leaves out (FDP 0.3 writes a hierarchy either way).
 * A dimension of one attribute needs no primaryKey.
 */
export function codeAttributes(key: string, d: Json, attrs: readonly DimensionAttr[]): DimensionAttr[] {
  const at = `model.dimensions.${key}.primaryKey`;
  const declared =
    typeof d.primaryKey === 'string' ? [d.primaryKey] : Array.isArray(d.primaryKey) ? d.primaryKey : [];
  const pk = declared.length ? declared.map(String) : attrs.length === 1 ? [attrs[0].key] : [];
  if (!pk.length) throw new PackageRefused(at, null, 'a dimension of several attributes needs a primaryKey');
  const byKey = new Map(attrs.map((a) => [a.key, a]));
  const out: DimensionAttr[] = [];
  const add = (k: string, chain: readonly string[]) => {
    const a = byKey.get(k);
    if (!a) throw new PackageRefused(at, k, "not one of the dimension's attributes");
    if (out.includes(a)) return;
    if (chain.includes(k))
      throw new PackageRefused(
        `model.dimensions.${key}.attributes.${k}.parent`,
        a.parent,
        'a parent chain that loops',
      );
    if (a.parent !== null && byKey.has(a.parent)) add(a.parent, [...chain, k]);
    out.push(a);
  };
  for (const k of pk) add(k, []);
  return out;
}
