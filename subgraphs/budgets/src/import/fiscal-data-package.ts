import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { FileRefused, readCsv, type CsvColumn } from '../../../../common/src/import/csv';
import { fileFacts, type FileFacts } from '../../../../common/src/import/file';
import type { SubgraphImporter } from '../../../../common/src/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '../../../../common/src/import/pipeline';
import type { ImportIssue } from '../../../../common/src/import/report';
import { digest } from '../../../../common/src/import/write';
import { slug } from '../../../../common/src/keys';
import { LANGUAGES, type Language } from '../../../../common/src/localized';
import { currencyDigits, toMinorUnits } from '../../../../common/src/money';
import type { Budget, BudgetAmount, BudgetDirection, BudgetLine, BudgetPhase } from '../entities/Budget';
import { DIRECTION_CODE } from '../seed/tn-municipal-budget';
import {
  missingLines,
  newWriterState,
  pruneLines,
  slotOf,
  writeLineGroups,
  type LineGroup,
  type LineWrite,
} from './lines';

/**
 * `fiscal-data-package`: a Fiscal Data Package 0.3 (the format OpenSpending publishes): a `datapackage.json`
 * whose `model` maps the columns of its CSV resources to measures (amounts, each with its ISO 4217 currency,
 * `direction` expenditure/revenue and `phase` proposed/approved/adjusted/executed) and dimensions.
 *
 * What is read, and how:
 * - **Budget.** One per fiscal year of the package, `fdp-<package name>-<year>`, for the organization given
 *   by `--organization <stable key>` or the package's `organization` property (e.g. `tn-municipality-34012`).
 *   The fiscal year is the `datetime` dimension's (a dimension of that type, or named date / fiscalYear /
 *   year: `2018` or a date `2018-01-01`), else `--year`, else the year `fiscalPeriod.start` is in.
 * - **Line.** One per row and direction, `<budget>-<EXP|REV>-<code>`. The code comes from ONE classification
 *   dimension, the model's functional one (e.g. COFOG) if it has one, else its economic one, else its
 *   administrative one, else any classification: its `primaryKey` attributes' values joined by dots
 *   (Titre.Article.Paragraphe.Sous_paragraphe → `1.01100.0001.000`; a COFOG code `01.1.1`). The line's
 *   classification is that dimension's name. Two rows giving the same code in the same year are a duplicate:
 *   a package with rows finer than its classification (e.g. by administrative unit) must be aggregated first.
 * - **Labels.** The attributes whose `labelfor` is the last primaryKey attribute, in the language their name
 *   ends with (`label_fr`, `title-ar`, `labelEn`) or else the package's `language`; with neither, Arabic text
 *   is taken as Arabic and other text as English, with a warning.
 * - **Amounts.** Decimal strings in major units (`1437803.283`), times the measure's `factor` (default 1),
 *   exact in the currency's minor unit: more decimals than the currency has (TND 3, EUR 2, JPY 0) is refused,
 *   as is anything not a plain decimal number. An empty cell is no amount. All measures must share one
 *   currency (a budget has one); no two may share a direction and phase.
 * - **Resources.** Every CSV resource, relative to the package, streamed in order; a model field is read from
 *   the resource named by its `resource` property, else from every resource. A row's record is
 *   `<resource path>:line N`; provenance names the package as given, with a checksum over the descriptor and
 *   every resource.
 *
 * Scope (checkpoint, missing lines, --prune): the package (its name); missing lines are those of the
 * package's budgets for the years the file has rows for that the file no longer gives.
 */

export const FISCAL_DATA_PACKAGE = 'fiscal-data-package';

const DIRECTIONS: Record<string, BudgetDirection> = { expenditure: 'EXPENDITURE', revenue: 'REVENUE' };
const PHASES: Record<string, BudgetPhase> = {
  proposed: 'PROPOSED',
  approved: 'APPROVED',
  adjusted: 'ADJUSTED',
  executed: 'EXECUTED',
};
/** Stable organization keys are lowercase words and digits joined by hyphens (common/src/keys.ts). */
const ORGANIZATION_KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_ID = 191;
const MAX_CODE = 64;
const MAX_LABEL = 1024;
const MAX_RECORD = 255;

/** A value read from a row: a CSV field, or a constant for every row. */
interface Attr {
  key: string;
  source: string | null;
  constant: string | null;
  resource: string | null;
}

interface Measure {
  key: string;
  source: string;
  resource: string | null;
  currency: string;
  factor: bigint;
  direction: BudgetDirection;
  phase: BudgetPhase;
}

interface Resource {
  name: string;
  /** Absolute path. */
  path: string;
  /** As written in the descriptor (records cite it). */
  relative: string;
  /** As named to the importer: the package's path joined with `relative` (refused rows cite it). */
  display: string;
  delimiter: string;
}

/** A package as the importer reads it. */
interface Package {
  name: string;
  slug: string;
  source: { dataset: string; url: string | null; license: string | null };
  organization: string;
  currency: string;
  resources: Resource[];
  measures: Measure[];
  classification: string;
  code: Attr[];
  labels: { attr: Attr; language: Language | null }[];
  date: Attr | null;
  /** The amount slots of each direction's lines: its measures' phases. */
  slots: Record<BudgetDirection, string[]>;
  /** The year of every row when there is no date dimension; with one, the only year accepted (--year). */
  year: number | null;
  warnings: string[];
}

class PackageRefused extends Error {
  constructor(
    readonly column: string | null,
    readonly value: string | null,
    reason: string,
  ) {
    super(reason);
  }
}

/** Where the descriptor of a package given as a folder or as its datapackage.json is. */
function descriptorPath(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, 'datapackage.json');
  } catch {
    // Not found: reading it says so.
  }
  return path;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

interface Params {
  organization?: string;
  year?: string;
  direction?: string;
  phase?: string;
}

/** Reads and checks a package's descriptor; throws PackageRefused naming the property at fault. */
function loadPackage(path: string, file: string, params: Params): Package {
  const descPath = descriptorPath(path);
  const descDisplay = descPath === path ? file : join(file, 'datapackage.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(descPath, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PackageRefused(
      null,
      null,
      code ? `cannot read ${descDisplay}: ${code}` : `${descDisplay} is not JSON: ${(err as Error).message}`,
    );
  }
  if (!isObject(json)) throw new PackageRefused(null, null, `${descDisplay} is not a JSON object`);
  const warnings: string[] = [];

  const name = str(json.name);
  if (!name)
    throw new PackageRefused(
      'name',
      null,
      "the package has no name: its budgets' stable ids are made from it",
    );
  const title = str(json.title) ?? name;
  const licenses = Array.isArray(json.licenses) ? json.licenses : [];
  const firstLicense = isObject(licenses[0]) ? (str(licenses[0].title) ?? str(licenses[0].name)) : null;
  const license = firstLicense ?? (isObject(json.license) ? str(json.license.type) : str(json.license));
  const source = { dataset: title, url: str(json.homepage), license };

  const organization = params.organization ?? str(json.organization);
  if (!organization)
    throw new PackageRefused(
      'organization',
      null,
      'no organization: give --organization <stable key> (e.g. tn-municipality-34012) or an "organization" property',
    );
  if (!ORGANIZATION_KEY.test(organization) || organization.length > MAX_ID)
    throw new PackageRefused(
      'organization',
      organization,
      'not a stable organization key (lowercase letters, digits and hyphens, e.g. tn-municipality-34012)',
    );

  const packageLanguage = str(json.language)?.toLowerCase().slice(0, 2) ?? null;
  if (packageLanguage !== null && !(LANGUAGES as readonly string[]).includes(packageLanguage))
    throw new PackageRefused('language', packageLanguage, `labels are kept in ${LANGUAGES.join(', ')} only`);

  // Resources: local CSV files inside the package's folder.
  if (!Array.isArray(json.resources) || !json.resources.length)
    throw new PackageRefused('resources', null, 'the package lists no resources');
  const root = dirname(resolve(descPath));
  const resources: Resource[] = json.resources.map((r: unknown, i: number) => {
    const at = `resources[${i}]`;
    if (!isObject(r)) throw new PackageRefused(at, null, 'a resource must be an object');
    const rel = str(r.path);
    if (!rel)
      throw new PackageRefused(
        `${at}.path`,
        null,
        Array.isArray(r.path)
          ? 'multi-part resources are not read: one CSV file per resource'
          : 'a resource needs a path (inline data is not read)',
      );
    if (/^[a-z][a-z0-9+.-]*:/i.test(rel))
      throw new PackageRefused(
        `${at}.path`,
        rel,
        'remote resources are not fetched: download it next to datapackage.json',
      );
    const abs = resolve(root, rel);
    if (isAbsolute(rel) || !(abs + sep).startsWith(root + sep))
      throw new PackageRefused(`${at}.path`, rel, 'a resource must be a file inside the package folder');
    const format = str(r.format)?.toLowerCase();
    if ((format && format !== 'csv') || (!format && !/\.csv$/i.test(rel)))
      throw new PackageRefused(`${at}.path`, rel, 'only CSV resources are read');
    const dialect = isObject(r.dialect) ? r.dialect : {};
    const delimiter = str(dialect.delimiter) ?? ',';
    return {
      name: str(r.name) ?? `resource ${i + 1}`,
      path: abs,
      relative: normalize(rel),
      display: join(dirname(descDisplay), rel),
      delimiter,
    };
  });
  const resourceNames = new Set(resources.map((r) => r.name));
  const resourceOf = (v: unknown, at: string) => {
    const r = str(v);
    if (r !== null && !resourceNames.has(r)) throw new PackageRefused(at, r, 'no resource has this name');
    return r;
  };

  const model = json.model;
  if (!isObject(model))
    throw new PackageRefused('model', null, 'the package has no model (Fiscal Data Package 0.3)');
  if (!isObject(model.measures) || !Object.keys(model.measures).length)
    throw new PackageRefused('model.measures', null, 'the model has no measures');
  if (!isObject(model.dimensions) || !Object.keys(model.dimensions).length)
    throw new PackageRefused('model.dimensions', null, 'the model has no dimensions');

  const optDirection = params.direction ? DIRECTIONS[params.direction] : null;
  const optPhase = params.phase ? PHASES[params.phase] : null;
  const measures: Measure[] = Object.entries(model.measures).map(([key, m]) => {
    const at = `model.measures.${key}`;
    if (!isObject(m)) throw new PackageRefused(at, null, 'a measure must be an object');
    const src = str(m.source);
    if (!src) throw new PackageRefused(`${at}.source`, null, 'a measure needs a source field');
    const rawCurrency = str(m.currency);
    if (!rawCurrency)
      throw new PackageRefused(`${at}.currency`, null, 'a measure needs a currency (ISO 4217)');
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
    const f = m.factor ?? 1;
    if (typeof f !== 'number' || !Number.isSafeInteger(f) || f < 1)
      throw new PackageRefused(
        `${at}.factor`,
        String(f),
        'factor must be a positive whole number (e.g. 1000)',
      );
    const dir = str(m.direction);
    const direction = dir === null ? optDirection : DIRECTIONS[dir.toLowerCase()];
    if (!direction)
      throw new PackageRefused(
        `${at}.direction`,
        dir,
        dir === null
          ? 'the measure has no direction: give --direction expenditure|revenue'
          : 'direction must be expenditure or revenue',
      );
    const ph = str(m.phase);
    const phase = ph === null ? optPhase : PHASES[ph.toLowerCase()];
    if (!phase)
      throw new PackageRefused(
        `${at}.phase`,
        ph,
        ph === null
          ? 'the measure has no phase: give --phase proposed|approved|adjusted|executed'
          : 'phase must be proposed, approved, adjusted or executed',
      );
    return {
      key,
      source: src,
      resource: resourceOf(m.resource, `${at}.resource`),
      currency,
      factor: BigInt(f),
      direction,
      phase,
    };
  });
  const currencies = [...new Set(measures.map((m) => m.currency))];
  if (currencies.length > 1)
    throw new PackageRefused(
      'model.measures',
      currencies.join(', '),
      'measures in several currencies: a budget has one currency (import one package per currency)',
    );
  const slots = new Map<string, string>();
  for (const m of measures) {
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

  // Dimensions: the classification giving the line code, and the date giving the fiscal year.
  const dims = Object.entries(model.dimensions).filter((e): e is [string, Record<string, unknown>] =>
    isObject(e[1]),
  );
  const attrsOf = (key: string, d: Record<string, unknown>) => {
    if (!isObject(d.attributes) || !Object.keys(d.attributes).length)
      throw new PackageRefused(`model.dimensions.${key}.attributes`, null, 'a dimension needs attributes');
    return Object.entries(d.attributes).map(([ak, a]): Attr & { labelfor: string | null } => {
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
        resource: resourceOf(a.resource, `${at}.resource`),
        labelfor: str(a.labelfor),
      };
    });
  };
  const primaryKey = (key: string, d: Record<string, unknown>, attrs: { key: string }[]) => {
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
  };

  const rank = (key: string, d: Record<string, unknown>): number => {
    const type = str(d.dimensionType)?.toLowerCase();
    const cls = str(d.classificationType)?.toLowerCase();
    if (type !== 'classification' && !cls && key.toLowerCase() !== 'cofog') return -1;
    if (cls === 'functional' || (!cls && key.toLowerCase() === 'cofog')) return 0;
    if (cls === 'economic') return 1;
    if (cls === 'administrative') return 2;
    return 3;
  };
  const classified = dims
    .map(([key, d]) => ({ key, d, rank: rank(key, d) }))
    .filter((c) => c.rank >= 0)
    .sort((a, b) => a.rank - b.rank);
  if (!classified.length)
    throw new PackageRefused(
      'model.dimensions',
      null,
      'no classification dimension (dimensionType "classification"): a line\'s code comes from one',
    );
  const chosen = classified[0];
  if (classified.length > 1)
    warnings.push(
      `line codes come from the ${chosen.key} classification; ${classified
        .slice(1)
        .map((c) => c.key)
        .join(', ')} not used`,
    );
  if (chosen.key.length > MAX_CODE)
    throw new PackageRefused(
      `model.dimensions.${chosen.key}`,
      chosen.key,
      `a classification name has at most ${MAX_CODE} characters`,
    );
  const clsAttrs = attrsOf(chosen.key, chosen.d);
  const pk = primaryKey(chosen.key, chosen.d, clsAttrs);
  const code = pk.map((k) => clsAttrs.find((a) => a.key === k)!);
  const last = pk[pk.length - 1];
  const labels: Package['labels'] = [];
  for (const a of clsAttrs) {
    if (a.labelfor !== last) continue;
    const suffix = /(?:[_\-\s.]|(?<=[a-z]))(ar|fr|en|es)$/i.exec(a.key);
    const language =
      (suffix ? (suffix[1].toLowerCase() as Language) : null) ?? (packageLanguage as Language | null);
    if (language && labels.some((l) => l.language === language)) {
      warnings.push(`attribute ${a.key} is a second ${language} label for ${last}: not read`);
      continue;
    }
    labels.push({ attr: a, language });
  }
  if (labels.some((l) => l.language === null))
    warnings.push(
      'a label attribute has no language (no _ar/_fr/_en/_es suffix, no package "language"): Arabic text is stored as Arabic, other text as English',
    );

  const dateDims = dims.filter(
    ([key, d]) =>
      str(d.dimensionType)?.toLowerCase() === 'datetime' ||
      ['date', 'fiscalyear', 'fiscal-year', 'fiscal_year', 'year'].includes(key.toLowerCase()),
  );
  let date: Attr | null = null;
  if (dateDims.length) {
    const [key, d] = dateDims[0];
    const attrs = attrsOf(key, d);
    const byName = attrs.find((a) =>
      ['year', 'fiscalyear', 'fiscal_year', 'fiscal-year'].includes(a.key.toLowerCase()),
    );
    const pkd =
      typeof d.primaryKey === 'string'
        ? d.primaryKey
        : Array.isArray(d.primaryKey)
          ? String(d.primaryKey[0])
          : null;
    date = byName ?? attrs.find((a) => a.key === pkd) ?? attrs[0];
  }
  let year: number | null = params.year ? Number(params.year) : null;
  if (!date && year === null) {
    const start = isObject(json.fiscalPeriod) ? str(json.fiscalPeriod.start) : null;
    const y = start ? /^(\d{4})/.exec(start)?.[1] : null;
    if (!y)
      throw new PackageRefused(
        'model.dimensions',
        null,
        'no fiscal year: the model has no date dimension, the package no fiscalPeriod; give --year',
      );
    year = Number(y);
  }

  const packageSlug = slug(name, 60);
  return {
    name,
    slug: packageSlug,
    source,
    organization,
    currency: currencies[0],
    resources,
    measures,
    classification: chosen.key,
    code,
    labels,
    date,
    slots: {
      EXPENDITURE: measures.filter((m) => m.direction === 'EXPENDITURE').map((m) => slotOf(m.phase, '')),
      REVENUE: measures.filter((m) => m.direction === 'REVENUE').map((m) => slotOf(m.phase, '')),
    },
    year,
    warnings,
  };
}

/** The columns a resource must have: every model field read from it. */
function resourceColumns(pkg: Package, r: Resource): CsvColumn[] {
  const fields = new Set<string>();
  const from = (x: { source: string | null; resource: string | null }) => {
    if (x.source !== null && (x.resource === null || x.resource === r.name)) fields.add(x.source);
  };
  pkg.measures.forEach(from);
  pkg.code.forEach(from);
  pkg.labels.forEach((l) => from(l.attr));
  if (pkg.date) from(pkg.date);
  return [...fields].map((name) => ({ name, required: true }));
}

/** A row as read: which resource, its line there, its values by field. */
interface FdpRow {
  resource: number;
  line: number;
  values: Record<string, string>;
}

/** The budget of a package for a year: `fdp-bou-arada-2018-approved-expenditure-2018`. */
export const fdpBudgetId = (packageSlug: string, year: number) => `fdp-${packageSlug}-${year}`;

const ARABIC = /[\u0600-\u06ff]/;

/** The part of `fiscal-data-package`, given the kind's options (checked here: a wrong one is a usage error). */
export function fiscalDataPackagePart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<FdpRow, LineGroup> {
  const p: Params = {
    organization: params.organization,
    year: params.year,
    direction: params.direction,
    phase: params.phase,
  };
  if (p.organization !== undefined && !ORGANIZATION_KEY.test(p.organization))
    throw new Error(
      `--organization must be a stable organization key (lowercase letters, digits and hyphens, e.g. tn-municipality-34012); got "${p.organization}"`,
    );
  if (p.year !== undefined && !/^(19|20|21)\d{2}$/.test(p.year))
    throw new Error(`--year must be a fiscal year (four digits, e.g. 2018); got "${p.year}"`);
  if (p.direction !== undefined && !DIRECTIONS[p.direction])
    throw new Error(`--direction must be expenditure or revenue; got "${p.direction}"`);
  if (p.phase !== undefined && !PHASES[p.phase])
    throw new Error(`--phase must be proposed, approved, adjusted or executed; got "${p.phase}"`);

  let pkg: Package | PackageRefused | null = null;
  let pkgFor = '';
  const packageOf = (ctx: ImportContext) => {
    if (!pkg || pkgFor !== ctx.path) {
      try {
        pkg = loadPackage(ctx.path, ctx.file, p);
      } catch (err) {
        if (!(err instanceof PackageRefused)) throw err;
        pkg = err;
      }
      pkgFor = ctx.path;
    }
    return pkg;
  };
  const resourceFacts = new Map<string, FileFacts>();
  let budgets = new Set<string>();
  let budgetCache = new Map<string, Budget>();
  let writer = newWriterState();

  return {
    importer: FISCAL_DATA_PACKAGE,
    subgraph: 'budgets',
    async facts(path) {
      const desc = descriptorPath(path);
      const own = await fileFacts(desc);
      resourceFacts.clear();
      let resources: string[] = [];
      try {
        const json = JSON.parse(readFileSync(desc, 'utf8').replace(/^\uFEFF/, '')) as {
          resources?: { path?: unknown }[];
        };
        resources = (json.resources ?? [])
          .map((r) => r?.path)
          .filter((x): x is string => typeof x === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(x));
      } catch {
        // An unreadable descriptor is refused when read: its own checksum stands for the package.
      }
      const parts: [string, string][] = [['datapackage.json', own.checksum]];
      let bytes = own.bytes;
      for (const rel of resources) {
        const abs = resolve(dirname(desc), rel);
        if (
          !(await stat(abs)
            .then((s) => s.isFile())
            .catch(() => false))
        )
          continue;
        const f = await fileFacts(abs);
        resourceFacts.set(abs, f);
        parts.push([rel, f.checksum]);
        bytes += f.bytes;
      }
      const checksum = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
      return { checksum, bytes, unreadable: null, firstNonUtf8Line: null };
    },
    scope(ctx) {
      const pk = packageOf(ctx);
      return pk instanceof PackageRefused ? '' : `package ${pk.slug}`;
    },
    async *read(ctx): AsyncGenerator<SourceRow<FdpRow>> {
      budgets = new Set();
      budgetCache = new Map();
      writer = newWriterState();
      const pk = packageOf(ctx);
      if (pk instanceof PackageRefused)
        throw new FileRefused({ line: null, column: pk.column, value: pk.value, reason: pk.message });
      for (const w of pk.warnings) ctx.warn(ctx.issue(null, null, null, w));
      let offset = 0;
      for (const [index, r] of pk.resources.entries()) {
        const facts =
          resourceFacts.get(r.path) ??
          (await fileFacts(r.path).catch(() => {
            throw new FileRefused({
              line: null,
              column: null,
              value: r.relative,
              reason: `resource ${r.name}: no file ${r.display}`,
            });
          }));
        let last = 0;
        try {
          for await (const rec of readCsv(
            r.path,
            r.display,
            facts,
            { columns: resourceColumns(pk, r), delimiter: r.delimiter },
            ctx,
          )) {
            last = rec.line;
            yield { line: offset + rec.line, data: { resource: index, line: rec.line, values: rec.values } };
          }
        } catch (err) {
          if (err instanceof FileRefused)
            throw new FileRefused({ ...err.issue, reason: `${r.display}: ${err.issue.reason}` });
          throw err;
        }
        offset += last + 1;
      }
    },
    validate(row, ctx) {
      const g = validateRow(packageOf(ctx) as Package, row.data, ctx, budgetCache);
      if (g) for (const b of g.budgets) budgets.add(b.id);
      return g;
    },
    key: (g) => g.key,
    write: (m, rows, w) => writeLineGroups(m, rows, w, writer),
    missing: (m, ctx) => missingLines(m, ctx, [...budgets], ['EXPENDITURE', 'REVENUE']),
    prune: (m, ctx, _scope, w) => pruneLines(m, ctx, [...budgets], ['EXPENDITURE', 'REVENUE'], w),
  };
}

function validateRow(
  pkg: Package,
  row: FdpRow,
  ctx: ImportContext,
  budgetCache: Map<string, Budget>,
): LineGroup | null {
  const res = pkg.resources[row.resource];
  const issue = (column: string | null, value: unknown, reason: string): ImportIssue => ({
    ...ctx.issue(row.line, column, value, reason),
    file: res.display,
  });
  const problems: ImportIssue[] = [];
  const read = (a: Attr) => (a.constant !== null ? a.constant : (row.values[a.source!] ?? ''));

  let year = pkg.year;
  if (pkg.date) {
    const raw = read(pkg.date);
    const m = /^\s*(\d{4})(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?\s*$/.exec(raw);
    if (!m)
      problems.push(
        issue(
          pkg.date.source,
          raw,
          `${JSON.stringify(raw)} is not a fiscal year (2018) or a date (2018-01-01)`,
        ),
      );
    else if (pkg.year !== null && Number(m[1]) !== pkg.year)
      problems.push(issue(pkg.date.source, raw, `fiscal year ${m[1]} is not --year ${pkg.year}`));
    else year = Number(m[1]);
  }

  const parts: string[] = [];
  for (const a of pkg.code) {
    const v = read(a).trim();
    if (!v)
      problems.push(
        issue(
          a.source,
          read(a),
          `missing code: ${a.key} is empty (the line code is ${pkg.code.map((c) => c.key).join('.')})`,
        ),
      );
    parts.push(v);
  }
  const code = parts.join('.');
  if (code.length > MAX_CODE)
    problems.push(
      issue(pkg.code[pkg.code.length - 1].source, code, `a code has at most ${MAX_CODE} characters`),
    );

  const labels: Partial<Record<Language, string>> = {};
  for (const { attr, language } of pkg.labels) {
    const raw = read(attr);
    const v = raw.trim();
    if (!v) continue;
    if (v.length > MAX_LABEL) {
      problems.push(issue(attr.source, raw, `a label has at most ${MAX_LABEL} characters`));
      continue;
    }
    const lang = language ?? (ARABIC.test(v) ? 'ar' : 'en');
    labels[lang] ??= v;
  }

  const amounts = new Map<BudgetDirection, { m: Measure; minor: string }[]>();
  for (const m of pkg.measures) {
    if (!amounts.has(m.direction)) amounts.set(m.direction, []);
    if (m.resource !== null && m.resource !== res.name) continue;
    const raw = row.values[m.source] ?? '';
    const v = raw.trim();
    if (v === '') continue;
    const minor = toMinor(v, m);
    if (typeof minor !== 'string') problems.push(issue(m.source, raw, minor.reason));
    else amounts.get(m.direction)!.push({ m, minor });
  }
  if (problems.length || year === null) {
    ctx.refuse(problems);
    return null;
  }

  const budgetId = fdpBudgetId(pkg.slug, year);
  const record = `${res.relative}:line ${row.line}`.slice(0, MAX_RECORD);
  const lines: LineWrite[] = [];
  for (const [direction, figures] of amounts) {
    const id = `${budgetId}-${DIRECTION_CODE[direction]}-${code}`;
    if (id.length > MAX_ID) {
      ctx.refuse([
        issue(
          pkg.code[pkg.code.length - 1].source,
          code,
          `the line id ${id} is longer than ${MAX_ID} characters`,
        ),
      ]);
      return null;
    }
    const lineAmounts: BudgetAmount[] = figures.map(({ m, minor }) => ({
      lineId: id,
      phase: m.phase,
      asOf: '',
      amountMinor: minor,
      sourceRecord: `${record} column ${m.source}`.slice(0, MAX_RECORD),
    }));
    const content = [
      budgetId,
      direction,
      code,
      labels.ar ?? null,
      labels.fr ?? null,
      labels.en ?? null,
      labels.es ?? null,
      pkg.classification,
      pkg.source,
      lineAmounts.map((a) => [a.phase, a.amountMinor, a.sourceRecord]),
    ];
    const line: BudgetLine = {
      id,
      budgetId,
      direction,
      code,
      labelAr: labels.ar ?? null,
      labelFr: labels.fr ?? null,
      labelEn: labels.en ?? null,
      labelEs: labels.es ?? null,
      classification: pkg.classification,
      ...ctx.provenance(pkg.source, row.line, record, digest(content)),
    };
    lines.push({
      line,
      amounts: lineAmounts,
      slots: pkg.slots[direction],
    });
  }
  let budget = budgetCache.get(budgetId);
  if (!budget) {
    const b = { id: budgetId, organizationId: pkg.organization, fiscalYear: year, currency: pkg.currency };
    budget = { ...b, ...ctx.provenance(pkg.source, row.line, res.relative, digest(b)), sourceLine: null };
    budgetCache.set(budgetId, budget);
  }
  return { key: `${year}|${code}`, budgets: [budget], lines };
}

/** An amount in major units to minor units of its measure's currency (times its factor), or why not. */
function toMinor(v: string, m: Measure): string | { reason: string } {
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

/** The `fiscal-data-package` kind of `npm run import`. */
export const fiscalDataPackageImporter: SubgraphImporter = {
  kind: FISCAL_DATA_PACKAGE,
  description: 'a Fiscal Data Package 0.3 (datapackage.json, or its folder, with CSV resources)',
  params: [
    {
      name: 'organization',
      description:
        'stable key of the organization whose budget it is (default: the package\'s "organization")',
    },
    {
      name: 'year',
      description: 'fiscal year when the model has no date dimension (default: fiscalPeriod.start)',
    },
    { name: 'direction', description: 'expenditure or revenue, for measures without a direction' },
    { name: 'phase', description: 'proposed, approved, adjusted or executed, for measures without a phase' },
  ],
  part: fiscalDataPackagePart,
};
