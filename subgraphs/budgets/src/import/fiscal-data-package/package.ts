import { join } from 'node:path';
import { slug } from '@civic/formats/keys';
import type { BudgetDirection } from '../../entities/Budget';
import { slotOf } from '../lines';
import { readClassification, type Classification } from './classification';
import {
  descriptorPath,
  fiscalPeriodYear,
  packageIdentity,
  packageLanguage,
  packageOrganization,
  readDescriptor,
  type PackageSource,
  type Params,
} from './descriptor';
import { dateAttribute, modelOf, readMeasures, type Attr, type Measure } from './model';
import { readResources, type Resource } from './resources';

/** A package as the importer reads it. */
export interface Package extends Classification {
  name: string;
  slug: string;
  source: PackageSource;
  organization: string;
  currency: string;
  resources: Resource[];
  measures: Measure[];
  date: Attr | null;
  /** The amount slots of each direction's lines: its measures' phases. */
  slots: Record<BudgetDirection, string[]>;
  /** The year of every row when there is no date dimension; with one, the only year accepted (--year). */
  year: number | null;
  warnings: string[];
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
  const resources = readResources(json, descPath, descDisplay);
  const resourceNames = new Set(resources.map((r) => r.name));
  const model = modelOf(json, warnings);
  for (const r of resources)
    if (r.delimiterDetected && r.delimiter !== ',')
      warnings.push(
        `${r.display}: the resource declares no dialect; its header is separated by "${r.delimiter}": read so`,
      );
  const { measures, currency } = readMeasures(model.measures, params, resourceNames);
  const classification = readClassification(model.dimensions, resourceNames, language, warnings);
  const date = dateAttribute(model.dimensions, resourceNames);
  const year = params.year ? Number(params.year) : date ? null : fiscalPeriodYear(json);
  const slotsOf = (direction: BudgetDirection) =>
    measures.filter((m) => m.direction === direction).map((m) => slotOf(m.phase, ''));
  return {
    name,
    slug: slug(name, 60),
    source,
    organization,
    currency,
    resources,
    measures,
    ...classification,
    date,
    slots: { EXPENDITURE: slotsOf('EXPENDITURE'), REVENUE: slotsOf('REVENUE') },
    year,
    warnings,
  };
}
