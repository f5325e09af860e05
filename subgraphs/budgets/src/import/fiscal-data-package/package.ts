import { join } from 'node:path';
import { slug } from '@civic/formats/keys';
import { lineClassification } from './classification';
import {
  descriptorPath,
  fiscalPeriodYear,
  isObject,
  packageGranularity,
  packageIdentity,
  packageLanguage,
  packageOrganization,
  readDescriptor,
  str,
  type Json,
  type PackageSource,
  type Params,
} from './descriptor';
import { readDimensions, type DimensionSpec } from './dimensions';
import { modelOf, readMeasures, type Attr, type Measure } from './model';
import { readResources, type Resource } from './resources';

/** A package as the importer reads it. */
export interface Package {
  name: string;
  slug: string;
  source: PackageSource;
  organization: string;
  resources: Resource[];
  measures: Measure[];
  /** Every dimension of the model, in its order: each a dimension of every fact. */
  dimensions: DimensionSpec[];
  /** The dimension coding the lines (budget_lines.code and labels), or null: the model declares no classification. */
  line: number | null;
  /** The attribute giving each row's fiscal year, and its dimension (the first date dimension); null: none. */
  yearFrom: { dim: number; attr: Attr } | null;
  /**
   * The year of the rows' figures when there is no date dimension (--year, else fiscalPeriod.start; null when
   * every measure is a period of its own); with one, the only year accepted (--year).
   */
  year: number | null;
  /** The measures are in several currencies: a budget per year and currency, its id ending in the currency. */
  multiCurrency: boolean;
  /** Rows identical to an earlier one are merged into it (--dedupe). */
  dedupe: boolean;
  warnings: string[];
}

/** Names of the attribute of a date dimension that gives the fiscal year, when it has several. */
const YEAR_ATTRIBUTES = ['year', 'fiscalyear', 'fiscal_year', 'fiscal-year'];

/**
 * The attribute giving each row's fiscal year: of the first datetime dimension, the attribute named year or
 * fiscalYear, else its top level's. Null when the model has no datetime dimension.
 */
function yearAttribute(specs: readonly DimensionSpec[]): Package['yearFrom'] {
  const dim = specs.findIndex((s) => s.datetime);
  if (dim < 0) return null;
  const spec = specs[dim];
  const named = spec.attrs.find((a) => YEAR_ATTRIBUTES.includes(a.key.toLowerCase()));
  return { dim, attr: named ?? spec.levels[0].attr };
}

/**
 * Reads and checks a package's descriptor (given as its folder or its datapackage.json, named `file` to the
 * person importing), before any row: throws PackageRefused naming the property at fault, so a package whose
 * model cannot be read is refused whole instead of row by row.
 */
export function loadPackage(path: string, file: string, params: Params): Package {
  const descPath = descriptorPath(path);
  const descDisplay = descPath === path ? file : join(file, 'datapackage.json');
  const json = readDescriptor(descPath, descDisplay);
  const warnings: string[] = [];
  const { name, source } = packageIdentity(json);
  const organization = packageOrganization(json, params);
  const language = packageLanguage(json);
  const granularity = packageGranularity(json, warnings);
  const resources = readResources(json, descPath, descDisplay);
  const resourceNames = new Set(resources.map((r) => r.name));
  const model = modelOf(json, warnings);
  for (const r of resources)
    if (r.delimiterDetected && r.delimiter !== ',')
      warnings.push(
        `${r.display}: the resource declares no dialect; its header is separated by "${r.delimiter}": read so`,
      );
  const measures = readMeasures(
    model.measures,
    { params, resourceNames, fields: schemaFields(json), granularity, at: model.typed?.measureAt },
    warnings,
  );
  const packageSlug = slug(name, 60);
  const dimensions = readDimensions(
    model.dimensions,
    {
      slug: packageSlug,
      resourceNames,
      language,
      kinds: model.typed?.kinds,
      languages: model.typed?.languages,
    },
    warnings,
  );
  const line = lineClassification(dimensions, warnings);
  const yearFrom = yearAttribute(dimensions);
  // Measures that are periods of their own (the wide layout) need no year from the rows or the package.
  const needsYear = measures.some((m) => m.period === null);
  const year = params.year ? Number(params.year) : yearFrom || !needsYear ? null : fiscalPeriodYear(json);
  const currencies = new Set(measures.map((m) => m.currency));
  if (currencies.size > 1)
    warnings.push(
      `the measures are in ${[...currencies].join(', ')}: a budget per fiscal year and currency (its id ends in the currency)`,
    );
  return {
    name,
    slug: packageSlug,
    source,
    organization,
    resources,
    measures,
    dimensions,
    line,
    yearFrom,
    year,
    multiCurrency: currencies.size > 1,
    dedupe: params.dedupe === true,
    warnings,
  };
}

/** The fields of the resources' schemas by name (the first resource declaring a name wins). */
function schemaFields(json: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const r of Array.isArray(json.resources) ? json.resources : []) {
    const fields = isObject(r) && isObject(r.schema) && Array.isArray(r.schema.fields) ? r.schema.fields : [];
    for (const f of fields) {
      const n = isObject(f) ? str(f.name) : null;
      if (n !== null && !out.has(n)) out.set(n, f as Json);
    }
  }
  return out;
}
