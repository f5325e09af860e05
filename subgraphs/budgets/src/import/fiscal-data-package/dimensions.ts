import { createHash } from 'node:crypto';
import type { ImportIssue } from '@civic/common/import/report';
import type { Language } from '@civic/common/localized';
import type { ClassificationType } from '../../entities/Budget';
import { pathOf, type FactDimension, type LevelCode } from '../../facts';
import { PackageRefused, str, type Json } from './descriptor';
import { MAX_LABEL } from './limits';
import { attributesOf, codeAttributes, type Attr, type DimensionAttr, type Dimension } from './model';

/*
 * Every dimension of the model as a dimension of each fact (facts.ts): what kind it is (declared, or read from
 * its name and said so), its code scheme, its levels and their labels by language, and reading a row's value
 * in it. A datetime dimension is a PERIOD whose levels are the year, month and day of its date.
 */

/** The column sizes of budget_line_dimensions and budget_codes a dimension's values go into. */
const MAX_DIMENSION = 64;
const MAX_DIMENSION_CODE = 191;
const MAX_PATH = 1024;

/** A label attribute of a level, with the language its name ends with or the package's (null: not known). */
export interface LabelAttr {
  attr: Attr;
  language: Language | null;
  /** Each dimension's kind when the package's types say it (1.0 columnTypes): read as is, no name guessed. */
  kinds?: ReadonlyMap<string, ClassificationType>;
  /** The language of a label attribute when its type says it (a columnType ending in `:fr`). */
  languages?: ReadonlyMap<string, Language>;
}

/** One level of a dimension: the attribute giving its code, and those labelling it. */
export interface LevelSpec {
  attr: DimensionAttr;
  labels: LabelAttr[];
}

/** A dimension of the model as the importer reads it. */
export interface DimensionSpec {
  key: string;
  type: ClassificationType;
  scheme: string;
  levels: LevelSpec[];
  /** Every attribute it declares (the fiscal year may be one that is not a level). */
  attrs: DimensionAttr[];
  /** A datetime dimension (declared, or named date, fiscalYear, year and declaring no other type). */
  datetime: boolean;
  /** A datetime dimension of one level: its value is read as a date (year, year-month, date). */
  date: boolean;
  /**
   * How much it is preferred as the lines' code when it is a classification the package declares: 0
   * functional (COFOG: codes that compare across budgets), 1 economic, 2 administrative, 3 another; -1 not one.
   */
  rank: number;
}

/** The language a label attribute's name ends with: `label_fr`, `title-ar`, `labelEn`. */
const LANGUAGE_SUFFIX = /(?:[_\-\s.]|(?<=[a-z]))(ar|fr|en|es)$/i;

/** Dimension names that are dates when they declare no type (as the importer always read them). */
const DATE_NAMES = ['date', 'fiscalyear', 'fiscal-year', 'fiscal_year', 'year'];

/** What a dimension's name says it is, tried in order (lower case, anywhere in the name). */
const NAMED: readonly [RegExp, ClassificationType][] = [
  [/cofog|function/, 'FUNCTIONAL'],
  [/econom/, 'ECONOMIC'],
  [/payee|supplier|recipient|beneficiar|vendor|contractor|creditor/, 'PAYEE'],
  [/payer|payor/, 'PAYER'],
  [/admin|portfolio|department|ministr|agency|institution|organi[sz]ation/, 'ADMINISTRATIVE'],
  [/program|outcome|activit|project/, 'ACTIVITY'],
  [/location|region|province|municipal|district|country|geograph|territor|commune/, 'GEOGRAPHY'],
  [/date|year|period|month|quarter/, 'PERIOD'],
];

/** The types each declared dimensionType may take from its name (an entity is a payee, a payer or an administration). */
const NAMEABLE: Record<string, readonly ClassificationType[]> = {
  entity: ['PAYEE', 'PAYER', 'ADMINISTRATIVE'],
  classification: ['FUNCTIONAL', 'ECONOMIC', 'ADMINISTRATIVE', 'ACTIVITY'],
};

const CLASSIFICATION_TYPES: Record<string, ClassificationType> = {
  functional: 'FUNCTIONAL',
  economic: 'ECONOMIC',
  administrative: 'ADMINISTRATIVE',
};

const DECLARED: Record<string, ClassificationType> = {
  activity: 'ACTIVITY',
  location: 'GEOGRAPHY',
  datetime: 'PERIOD',
};

/**
 * A dimension's type: given by its columnTypes (`kinds`, a 1.0 package), else declared (`dimensionType`
 * location, activity, datetime; classification with its `classificationType`), else read from its name (a
 * payee, a portfolio, a programme), else OTHER. A type the package does not declare is explained in a warning,
 * so a person can check it.
 */
function typeOf(
  key: string,
  d: Json,
  warnings: string[],
  kinds?: ReadonlyMap<string, ClassificationType>,
): ClassificationType {
  const kind = kinds?.get(key);
  if (kind) return kind;
  const dimType = str(d.dimensionType)?.toLowerCase() ?? null;
  const clsType = str(d.classificationType)?.toLowerCase() ?? null;
  if (clsType && CLASSIFICATION_TYPES[clsType]) return CLASSIFICATION_TYPES[clsType];
  if (dimType && DECLARED[dimType]) return DECLARED[dimType];
  if (!dimType && DATE_NAMES.includes(key.toLowerCase())) {
    warnings.push(`dimension ${key} declares no dimensionType: read as a date (PERIOD), as its name says`);
    return 'PERIOD';
  }
  const allowed = dimType && NAMEABLE[dimType] ? NAMEABLE[dimType] : null;
  const name = key.toLowerCase();
  const named = NAMED.find(([re, t]) => re.test(name) && (!allowed || allowed.includes(t)))?.[1] ?? null;
  const declared = dimType
    ? `a dimensionType "${dimType}"${clsType ? ` of classificationType "${clsType}"` : ''}`
    : 'no dimensionType';
  warnings.push(
    named
      ? `dimension ${key} (${declared}) is taken as ${named}, as its name says`
      : `dimension ${key} (${declared}) is taken as OTHER: neither its type nor its name says what it classifies`,
  );
  return named ?? 'OTHER';
}

/** Whether a dimension is a classification the package declares (a candidate for the lines' code). */
function rankOf(key: string, d: Json, type: ClassificationType): number {
  const dimType = str(d.dimensionType)?.toLowerCase();
  if (dimType !== 'classification' && !str(d.classificationType) && key.toLowerCase() !== 'cofog') return -1;
  return { FUNCTIONAL: 0, ECONOMIC: 1, ADMINISTRATIVE: 2 }[type as string] ?? 3;
}

/** COFOG, by the dimension's name or title: its codes are the UN's, shared by every package (scheme `cofog`). */
const isCofog = (key: string, d: Json) =>
  [key, str(d.title), str(d.label), str(d.classification)].some((t) => t !== null && /cofog/i.test(t));

/** What reading the dimensions needs besides them. */
export interface DimensionContext {
  slug: string;
  resourceNames: ReadonlySet<string>;
  language: Language | null;
  /** Each dimension's kind when the package's types say it (1.0 columnTypes): read as is, no name guessed. */
  kinds?: ReadonlyMap<string, ClassificationType>;
  /** The language of a label attribute when its type says it (a columnType ending in `:fr`). */
  languages?: ReadonlyMap<string, Language>;
}

/**
 * Every dimension of the model, in its order, as the facts' dimensions: type, scheme (`cofog` for COFOG,
 * else `fdp:<package>:<dimension>`, codes being the package's own), levels and label attributes. Warnings
 * (a type read from a name, a second label in a language) go to `warnings`.
 */
export function readDimensions(
  dimensions: readonly Dimension[],
  ctx: DimensionContext,
  warnings: string[],
): DimensionSpec[] {
  return dimensions.map(([key, d]) => {
    if (key.length > MAX_DIMENSION)
      throw new PackageRefused(
        `model.dimensions.${key}`,
        key,
        `a dimension's name has at most ${MAX_DIMENSION} characters`,
      );
    const attrs = attributesOf(key, d, ctx.resourceNames);
    const codes = codeAttributes(key, d, attrs);
    const type = typeOf(key, d, warnings, ctx.kinds);
    const levels = codes.map((attr) => ({
      attr,
      labels: labelAttributes(attrs, attr.key, ctx.language, warnings, ctx.languages),
    }));
    const scheme = type === 'FUNCTIONAL' && isCofog(key, d) ? 'cofog' : `fdp:${ctx.slug}:${key}`;
    const dimType = str(d.dimensionType)?.toLowerCase();
    const datetime = dimType === 'datetime' || (!dimType && DATE_NAMES.includes(key.toLowerCase()));
    return {
      key,
      type,
      scheme,
      levels,
      attrs,
      datetime,
      date: datetime && levels.length === 1,
      rank: rankOf(key, d, type),
    };
  });
}

/** The attributes labelling `level`, each with the language its name ends with, else the package's. */
function labelAttributes(
  attrs: readonly DimensionAttr[],
  level: string,
  packageLanguage: Language | null,
  warnings: string[],
  typed?: ReadonlyMap<string, Language>,
): LabelAttr[] {
  const labels: LabelAttr[] = [];
  for (const a of attrs) {
    if (a.labelfor !== level) continue;
    const suffix = LANGUAGE_SUFFIX.exec(a.key);
    const language =
      typed?.get(a.key) ?? (suffix ? (suffix[1].toLowerCase() as Language) : null) ?? packageLanguage;
    if (labels.some((l) => l.language === language)) {
      warnings.push(
        `attribute ${a.key} is a second ${language ?? 'language-less'} label for ${level}: read only where the first is empty`,
      );
    }
    labels.push({ attr: a, language });
  }
  return labels;
}

/** Years and dates (an ISO 8601 date-time too), the values of a datetime dimension. */
const DATE =
  /^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The levels of a date: its year, year-month and date, as far as it goes (`2014`, `2014-12`, `2014-12-30`);
 * a time other than midnight is a fourth level, the value as written. Null when it is not a date.
 */
export function dateLevels(value: string): string[] | null {
  const m = DATE.exec(value);
  if (!m) return null;
  const [, y, mo, da, h, mi, s] = m;
  const out = [y];
  if (mo !== undefined) {
    if (Number(mo) < 1 || Number(mo) > 12) return null;
    out.push(`${y}-${mo.padStart(2, '0')}`);
  }
  if (da !== undefined) {
    if (Number(da) < 1 || Number(da) > 31) return null;
    out.push(`${out[1]}-${da.padStart(2, '0')}`);
  }
  if (h !== undefined && (Number(h) || Number(mi) || Number(s ?? 0))) out.push(value);
  return out;
}

/**
 * The codes of a hierarchy's levels from its values: the values themselves when each extends the one above it
 * after a separator (COFOG `01`, `01.1`, `01.1.1`: codes that stand alone), else the values so far joined by
 * dots (Madrid's economic chapter `1` and concept `12000` → `1`, `1.12000`: a concept code is not unique
 * across chapters in general, and a bare prefix proves nothing: `1` and `12000`, or section `001` under
 * centre `001`, share one by chance as often as by design).
 */
export function levelCodes(values: readonly string[]): string[] {
  const selfContained = values.every(
    (v, i) =>
      i === 0 ||
      (v.length > values[i - 1].length &&
        v.startsWith(values[i - 1]) &&
        /[.\-/_: ]/.test(v[values[i - 1].length])),
  );
  return values.map((v, i) => (selfContained ? v : values.slice(0, i + 1).join('.')));
}

/**
 * A code no longer than its column: a longer one (a name used as a code: Australia's outcome statements run to
 * 363 characters) keeps its start and ends in `~` and 12 hex digits of its digest, unique and stable; its full
 * text is kept as the code's label.
 */
export function fitCode(code: string, max = MAX_DIMENSION_CODE): string {
  if (code.length <= max) return code;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  return `${code.slice(0, max - 13)}~${hash}`;
}

/** Reads an attribute's value from the row at hand (its constant, or its field; '' when absent). */
export type ReadAttr = (a: Attr) => string;
/** An issue about the row at hand, in the resource it comes from. */
export type IssueAt = (column: string | null, value: unknown, reason: string) => ImportIssue;

/** The labels of one level in a row: by language, and the first one whose language is not known. */
function levelLabels(
  level: LevelSpec,
  read: ReadAttr,
  issue: IssueAt,
  problems: ImportIssue[],
): Pick<LevelCode, 'labels' | 'label'> {
  const labels: Partial<Record<Language, string>> = {};
  let label: string | null = null;
  for (const { attr, language } of level.labels) {
    const raw = read(attr);
    const v = raw.trim();
    if (!v) continue;
    if (v.length > MAX_LABEL) {
      problems.push(issue(attr.source, raw, `a label has at most ${MAX_LABEL} characters`));
      continue;
    }
    if (language === null) label ??= v;
    else labels[language] ??= v;
  }
  const out: Pick<LevelCode, 'labels' | 'label'> = {};
  if (Object.keys(labels).length) out.labels = labels;
  if (label !== null) out.label = label;
  return out;
}

/**
 * A row's value in a dimension, or null when the row gives none (every level empty: a payment without a
 * description has no value in that dimension). Levels left empty at the bottom end the code higher up (a
 * fact coded to its chapter only); an empty level above a given one is a hole in the hierarchy, refused, as
 * is a value of a datetime dimension that is not a date (unless `yearChecked`: the fiscal year's check
 * already names it). With `complete`, every level must be given (the lines' code). Problems are pushed.
 */
export function readDimension(
  spec: DimensionSpec,
  read: ReadAttr,
  issue: IssueAt,
  problems: ImportIssue[],
  options: { complete?: boolean; yearChecked?: boolean } = {},
): FactDimension | null {
  const raw = spec.levels.map((l) => read(l.attr));
  const values = raw.map((v) => v.trim());
  const given = values.filter((v) => v !== '').length;
  if (options.complete && given < values.length) {
    const missing = spec.levels.find((_, i) => values[i] === '')!;
    problems.push(
      issue(
        missing.attr.source,
        read(missing.attr),
        `missing code: ${missing.attr.key} is empty (the line code is ${spec.levels.map((l) => l.attr.key).join('.')})`,
      ),
    );
    return null;
  }
  if (!given) return null;
  let depth = values.length;
  while (values[depth - 1] === '') depth -= 1;
  const hole = values.slice(0, depth).findIndex((v) => v === '');
  if (hole >= 0) {
    const below = spec.levels[depth - 1].attr;
    problems.push(
      issue(
        spec.levels[hole].attr.source,
        raw[hole],
        `${spec.levels[hole].attr.key} is empty but ${below.key} below it is given: a code of ${spec.key} needs every level above it`,
      ),
    );
    return null;
  }
  if (spec.date) {
    const levels = dateLevels(values[0]);
    if (!levels) {
      if (!options.yearChecked)
        problems.push(
          issue(
            spec.levels[0].attr.source,
            raw[0],
            `${JSON.stringify(raw[0])} is not a date (2014, 2014-12 or 2014-12-30) for ${spec.key}`,
          ),
        );
      return null;
    }
    return {
      dimension: spec.key,
      type: spec.type,
      scheme: spec.scheme,
      levels: levels.map((code, i) =>
        i === levels.length - 1 ? { code, ...levelLabels(spec.levels[0], read, issue, problems) } : { code },
      ),
    };
  }
  const codes = levelCodes(values.slice(0, depth));
  const levels: LevelCode[] = codes.map((full, i) => {
    const code = fitCode(full);
    const labels = levelLabels(spec.levels[i], read, issue, problems);
    // A shortened code keeps its whole text as its label when it has none of its own.
    if (code !== full && !labels.labels && labels.label === undefined)
      labels.label = values[i].slice(0, MAX_LABEL);
    return { code, ...labels };
  });
  if (pathOf(levels).length > MAX_PATH) {
    problems.push(
      issue(
        spec.levels[depth - 1].attr.source,
        raw[depth - 1],
        `the codes of ${spec.key} are longer than ${MAX_PATH} characters together`,
      ),
    );
    return null;
  }
  return { dimension: spec.key, type: spec.type, scheme: spec.scheme, levels };
}
