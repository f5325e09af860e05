import { LANGUAGES, type Language } from '@civic/common/localized';
import type { ClassificationType } from '../../entities/Budget';
import { isObject, PackageRefused, str, type Json } from './descriptor';
import type { Dimension } from './model';

/*
 * Fiscal Data Package 1.0: no model, but a `columnType` on each resource schema field, from OpenSpending's
 * os-types taxonomy (github.com/openspending/os-types, src/os-types.json; the spec's budget and spending
 * taxonomies, frictionlessdata/specs fiscal-data-package--budgets.md and --spending.md, name the same types,
 * with `geo:` where os-types says `geo-source:`). This file derives the 0.3 model the rest of the importer
 * reads from those types, the way os-types' own `fieldsToModel` does: `value` fields are measures (with the
 * field's `currency`, `factor`, `direction`, `phase`); every other typed field is an attribute of a dimension,
 * its levels the code types (`unique`) chained by `parent` (the spec's `prior`), labelled by the types whose
 * `labelfor` (`labelOf`) they are. Untyped fields are not read ("Unmapped columns should simply be ignored").
 */

/** A ColumnType's properties, under os-types' names (the spec's `unique`, `labelOf`, `prior` read into them). */
export interface ColumnTypeDef {
  /** os-types' dimensionType: classification, activity, location, datetime, entity, fact, other. */
  dimensionType?: string;
  /** For classifications: administrative, functional, economic, object. */
  classificationType?: string;
  /** A code: part of the dimension's key (a level). */
  unique?: boolean;
  /** The code type it labels. */
  labelfor?: string;
  /** The code type of the level above. */
  parent?: string;
  /** `value`: the field is a measure. */
  measure?: boolean;
}

/** The taxonomy, by type name. */
const TYPES = new Map<string, ColumnTypeDef>();

type Base = Pick<ColumnTypeDef, 'dimensionType' | 'classificationType'>;

/** `<base>:code` (a code), `<base>:<label>` labelling it and, with `description`, `<base>:description`. */
function flat(base: string, def: Base, label = 'label', description = true) {
  TYPES.set(`${base}:code`, { ...def, unique: true });
  TYPES.set(`${base}:${label}`, { ...def, labelfor: `${base}:code` });
  if (description) TYPES.set(`${base}:description`, def);
}

/** A hierarchy under `base`: each level a code whose parent is the level before, with its label (and description). */
function chain(base: string, levels: readonly string[], def: Base, label = 'label', description = true) {
  levels.forEach((level, i) => {
    const code = `${base}:${level}:code`;
    TYPES.set(code, { ...def, unique: true, ...(i ? { parent: `${base}:${levels[i - 1]}:code` } : {}) });
    TYPES.set(`${base}:${level}:${label}`, { ...def, labelfor: code });
    if (description) TYPES.set(`${base}:${level}:description`, def);
  });
}

/** A code type with a `name` or `label` type labelling it (entities: `recipient:generic:id` and `:name`). */
function coded(code: string, label: string | null, def: Base, parent?: string) {
  TYPES.set(code, { ...def, unique: true, ...(parent ? { parent } : {}) });
  if (label) TYPES.set(label, { ...def, labelfor: code });
}

const levels = (n: number) => Array.from({ length: n }, (_, i) => `level${i + 1}`);
const classification = (classificationType: string): Base => ({
  dimensionType: 'classification',
  classificationType,
});

// Amounts (measures).
TYPES.set('value', { measure: true });
// Classifications.
flat('administrative-classification:generic', classification('administrative'));
chain('administrative-classification:generic', levels(8), classification('administrative'));
flat('functional-classification:generic', classification('functional'));
chain('functional-classification:generic', levels(8), classification('functional'));
flat('functional-classification:cofog', classification('functional'));
chain('functional-classification:cofog', ['division', 'group', 'class'], classification('functional'));
flat('economic-classification:generic', classification('economic'));
chain('economic-classification:generic', levels(8), classification('economic'));
chain('economic-classification:gfsm', levels(4), classification('economic'));
chain('object-classification:generic', levels(4), classification('object'), 'label', false);
// Activities.
const ACTIVITY: Base = { dimensionType: 'activity' };
chain(
  'activity:generic',
  ['program', 'subprogram', 'project', 'subproject', 'contract'],
  ACTIVITY,
  'label',
  false,
);
TYPES.set('activity:generic:subproject:kind', ACTIVITY);
// Places: os-types' `geo-source:` and the spec's `geo:`.
const LOCATION: Base = { dimensionType: 'location' };
for (const geo of ['geo-source', 'geo']) {
  for (const s of ['generic', 'source', 'target']) {
    flat(`${geo}:${s}`, LOCATION, 'title', false);
    TYPES.set(`${geo}:${s}:codeList`, { ...LOCATION, unique: true });
  }
  chain(`${geo}:target`, levels(2), LOCATION, 'title', false);
  chain(`${geo}:address`, ['country', 'region', 'county', 'city', 'zip'], LOCATION, 'label', false);
  TYPES.set(`${geo}:address:street-address:description`, LOCATION);
}
// Dates.
const DATETIME: Base = { dimensionType: 'datetime' };
TYPES.set('date:fiscal-year', { ...DATETIME, unique: true });
TYPES.set('date:fiscal-month', { ...DATETIME, unique: true, parent: 'date:fiscal-year' });
for (const d of ['activity-start', 'activity-end', 'activity-approval', 'first-payment', 'final-payment'])
  TYPES.set(`date:fiscal:${d}`, { ...DATETIME, unique: true });
TYPES.set('date:generic', { ...DATETIME, unique: true });
// Entities: who administers, buys, receives.
const ENTITY: Base = { dimensionType: 'entity' };
coded('administrator:generic:id', 'administrator:generic:name', ENTITY);
for (const who of ['procurer', 'recipient']) {
  coded(`${who}:bank:code`, null, ENTITY);
  TYPES.set(`${who}:bank:account`, ENTITY);
  // os-types has recipient:bank:branch:name label itself; the spec's procurer types label the branch code.
  coded(`${who}:bank:branch:code`, `${who}:bank:branch:name`, ENTITY);
}
coded('procurer:generic:id', 'procurer:generic:name', ENTITY);
coded('recipient:generic:id', 'recipient:generic:name', ENTITY);
TYPES.set('recipient:generic:url', ENTITY);
// The spec puts a code-type between the recipient and its legal entity code (os-types does not have it).
coded('recipient:generic:legal-entity:code-type', null, ENTITY, 'recipient:generic:id');
coded(
  'recipient:generic:legal-entity:code',
  'recipient:generic:legal-entity:label',
  ENTITY,
  'recipient:generic:legal-entity:code-type',
);
TYPES.set('recipient:generic:legal-entity:point-of-contact:description', ENTITY);
coded(
  'recipient:generic:legal-entity:receiving-project:code',
  'recipient:generic:legal-entity:receiving-project:label',
  ENTITY,
  'recipient:generic:legal-entity:code',
);
TYPES.set('recipient:generic:legal-entity:receiving-project:status', ENTITY);
TYPES.set('recipient:generic:legal-entity:receiving-project:description', ENTITY);
coded('supplier:generic:id', 'supplier:generic:name', ENTITY);
// Identifiers of the line or transaction.
const FACT: Base = { dimensionType: 'fact' };
TYPES.set('budget-line-id', { ...FACT, unique: true });
for (const t of [
  'code',
  'purchase-order',
  'invoice-id',
  'tender-id',
  'contract-id',
  'budget-code',
  'court-order',
])
  TYPES.set(`transaction-id:${t}`, { ...FACT, unique: true });
for (const t of ['tender-kind', 'transaction-kind']) TYPES.set(`transaction-id:${t}`, FACT);
// Other budgeting properties, and os-types' placeholders.
const OTHER: Base = { dimensionType: 'other' };
TYPES.set('direction', { ...OTHER, unique: true });
coded('phase:id', 'phase:label', OTHER);
coded('value-kind:code', 'value-kind:label', OTHER);
coded('value-currency:code', 'value-currency:label', OTHER);
coded('expenditure-type:code', 'expenditure-type:label', OTHER);
flat('fin-source:generic', OTHER, 'label', false);
chain('fin-source:generic', levels(3), OTHER, 'label', false);
TYPES.set('budgetary-transfers', OTHER);
for (const t of ['string', 'date', 'time', 'datetime', 'number', 'integer']) TYPES.set(`unknown:${t}`, OTHER);
for (let i = 1; i <= 40; i++) coded(`unknown:string-${i}:code`, `unknown:string-${i}:label`, OTHER);

/** The spec's URLs of the taxonomies this file carries: a package naming them needs nothing fetched. */
const KNOWN_TAXONOMIES =
  /^https?:\/\/specs\.frictionlessdata\.io\/taxonomies\/fiscal\/(budgets|spending)\.json$/;

/** Type names ending in one of these name a part of a code, not a code type of their own. */
const PART = /:(code|id|name|label|title|description)$/;

/** Whether any resource schema field of the package has a `columnType`. */
export function hasColumnTypes(json: Json): boolean {
  return typedFieldsOf(json).length > 0;
}

function fieldsOf(r: unknown, prop: 'fields' | 'extraFields'): unknown[] {
  return isObject(r) && isObject(r.schema) && Array.isArray(r.schema[prop]) ? r.schema[prop] : [];
}

function typedFieldsOf(json: Json): Json[] {
  return (Array.isArray(json.resources) ? json.resources : []).flatMap((r) =>
    [...fieldsOf(r, 'fields'), ...fieldsOf(r, 'extraFields')].filter(
      (f): f is Json => isObject(f) && str(f.columnType) !== null,
    ),
  );
}

/**
 * The package's own ColumnType definitions (the top-level `columnTypes`: an object is one definition, an array
 * a definition package; a URL is not fetched, said in a warning unless it is the spec's own taxonomy), over the
 * taxonomy's. Properties under the spec's names (`unique`, `labelOf`, `prior`) or os-types' are both read.
 */
function taxonomyOf(json: Json, warnings: string[]): Map<string, ColumnTypeDef> {
  const types = new Map(TYPES);
  const items = Array.isArray(json.columnTypes) ? json.columnTypes : [];
  const define = (d: unknown, at: string) => {
    const name = isObject(d) ? str(d.name) : null;
    if (!isObject(d) || !name) throw new PackageRefused(at, null, 'a ColumnType definition needs a name');
    const base = types.get(name) ?? {};
    const unique = d.unique ?? d.uniqueIdentifier;
    types.set(name, {
      ...base,
      ...(str(d.dimensionType) ? { dimensionType: str(d.dimensionType)!.toLowerCase() } : {}),
      ...(str(d.classificationType) ? { classificationType: str(d.classificationType)!.toLowerCase() } : {}),
      ...(typeof unique === 'boolean' ? { unique } : {}),
      ...(str(d.labelOf ?? d.labelfor) ? { labelfor: str(d.labelOf ?? d.labelfor)! } : {}),
      ...(str(d.prior ?? d.parent) ? { parent: str(d.prior ?? d.parent)! } : {}),
    });
  };
  items.forEach((item: unknown, i: number) => {
    if (typeof item === 'string') {
      if (!KNOWN_TAXONOMIES.test(item.trim()))
        warnings.push(
          `columnTypes[${i}] "${item}" is a taxonomy at a URL, which is not fetched: the types only it defines are read as unknown types`,
        );
    } else if (Array.isArray(item)) item.forEach((d, j) => define(d, `columnTypes[${i}][${j}]`));
    else define(item, `columnTypes[${i}]`);
  });
  return types;
}

/** How a field's columnType was understood. */
interface Resolved {
  def: ColumnTypeDef;
  /** The taxonomy has it; it inherits from the longest types its name extends; only its concept is known; none. */
  how: 'known' | 'prefix' | 'concept' | 'unknown';
  from: string | null;
}

/**
 * A columnType's properties. The spec allows types it does not list ("Custom ColumnTypes can be used without
 * declaring them in advance"): an unknown type copies the properties of every type its name extends (by whole
 * `:`-separated segments), the longer name winning (`functional-classification:cofog:group:label:fr` is a
 * label of `…:group:code`); extending none, it "is still valid" but has no relationship to other columns, and is
 * here a dimension of its own, of the kind its first segment names when the taxonomy knows it.
 */
function resolve(ct: string, types: ReadonlyMap<string, ColumnTypeDef>): Resolved {
  const known = types.get(ct);
  if (known) return { def: known, how: 'known', from: ct };
  const segments = ct.split(':');
  let def: ColumnTypeDef | null = null;
  let from: string | null = null;
  for (let k = 1; k < segments.length; k++) {
    const prefix = segments.slice(0, k).join(':');
    const d = types.get(prefix);
    if (d) {
      def = { ...(def ?? {}), ...d };
      from = prefix;
    }
  }
  if (def) return { def, how: 'prefix', from };
  const concept = segments[0];
  const kin = [...types.entries()].find(([n]) => n === concept || n.startsWith(`${concept}:`));
  if (kin && !kin[1].measure) {
    const { dimensionType, classificationType } = kin[1];
    return { def: { dimensionType, classificationType }, how: 'concept', from: concept };
  }
  return { def: { dimensionType: 'other' }, how: 'unknown', from: null };
}

/** A dimension's kind from its top code type: the classification, else what the dimensionType says. */
function kindOf(def: ColumnTypeDef, concept: string): ClassificationType {
  switch (def.classificationType) {
    case 'functional':
      return 'FUNCTIONAL';
    case 'economic':
    // An object (of expenditure) classification says what the money buys: economic.
    case 'object':
      return 'ECONOMIC';
    case 'administrative':
      return 'ADMINISTRATIVE';
  }
  switch (def.dimensionType) {
    case 'activity':
      return 'ACTIVITY';
    case 'location':
      return 'GEOGRAPHY';
    case 'datetime':
      return 'PERIOD';
    case 'entity':
      // The administrator manages the funds, the procurer pays, the recipient and supplier are paid.
      return concept === 'administrator'
        ? 'ADMINISTRATIVE'
        : concept === 'procurer'
          ? 'PAYER'
          : concept === 'recipient' || concept === 'supplier'
            ? 'PAYEE'
            : 'OTHER';
  }
  return 'OTHER';
}

/** A typed field of the package: the same name in several resources is one field (their schemas agree). */
interface TypedField {
  name: string;
  columnType: string;
  field: Json;
  /** Where the descriptor first declares it: `resources[0].schema.fields[3]`. */
  at: string;
  /** The resources declaring it (indices), in order. */
  resources: number[];
  constant: string | null;
  order: number;
  resolved: Resolved;
}

/** The 0.3 model derived from a 1.0 package's columnTypes, with what the 0.3 form cannot say. */
export interface TypedModel {
  measures: Json;
  dimensions: Dimension[];
  /** Each dimension's kind, from its types (no guess from names). */
  kinds: Map<string, ClassificationType>;
  /** Label attributes whose columnType ends in a language (`…:label:fr`). */
  languages: Map<string, Language>;
  /** Where each measure's field is declared, for messages (`resources[0].schema.fields[3]`). */
  measureAt: Map<string, string>;
}

/** The longest dimension name budget_line_dimensions stores. */
const MAX_DIMENSION = 64;

/** A property of a `value` field: on the field (FDP 1.0), else in its `options` object (os-types' input form). */
const measureProp = (f: Json, prop: string): unknown =>
  f[prop] ?? (isObject(f.options) ? f.options[prop] : undefined);

/**
 * The model of a package typed by columnTypes (Fiscal Data Package 1.0). Refused (PackageRefused, naming the
 * field): two fields of one code type, a field typed differently in two resources or in some resources only,
 * `normalize` (measures unpivoted into a phase or year column, which this importer does not do), no `value`
 * field, no dimension. Warned: types the taxonomy does not list (and what they were read as), a label without
 * its code (read as the code), descriptions, phase/direction/currency columns (dimensions, not the figures').
 */
export function columnTypeModel(json: Json, warnings: string[]): TypedModel {
  const types = taxonomyOf(json, warnings);
  const resources = Array.isArray(json.resources) ? json.resources : [];
  const byName = new Map<string, TypedField>();
  let order = 0;
  resources.forEach((r: unknown, i: number) => {
    for (const prop of ['fields', 'extraFields'] as const)
      fieldsOf(r, prop).forEach((f, j) => {
        const at = `resources[${i}].schema.${prop}[${j}]`;
        if (!isObject(f)) return;
        if (f.normalize !== undefined || f.normalizationTarget !== undefined)
          throw new PackageRefused(
            `${at}.${f.normalize !== undefined ? 'normalize' : 'normalizationTarget'}`,
            str(f.name),
            'measures unpivoted by "normalize" (FDP 1.0) are not read: give each value field its own columnType "value" with its phase, direction and currency',
          );
        const ct = str(f.columnType);
        if (ct === null) {
          if (prop === 'extraFields')
            warnings.push(`${at} has no columnType: an extra field is read only as a typed constant`);
          return;
        }
        const name = str(f.name);
        if (!name) throw new PackageRefused(`${at}.name`, null, 'a typed field needs a name');
        const constant = f.constant === undefined || f.constant === null ? null : String(f.constant);
        if (prop === 'extraFields' && constant === null)
          throw new PackageRefused(
            `${at}.constant`,
            name,
            'an extra field gives a constant (a column the file does not have): this one has none',
          );
        const seen = byName.get(name);
        if (seen) {
          if (seen.resources.includes(i))
            throw new PackageRefused(`${at}.name`, name, `the resource declares a field "${name}" twice`);
          if (seen.columnType !== ct)
            throw new PackageRefused(
              `${at}.columnType`,
              ct,
              `field "${name}" is typed "${seen.columnType}" in ${seen.at}: a field has one columnType in every resource`,
            );
          seen.resources.push(i);
          return;
        }
        byName.set(name, {
          name,
          columnType: ct,
          field: f,
          at,
          resources: [i],
          constant,
          order: order++,
          resolved: resolve(ct, types),
        });
      });
  });
  const fields = [...byName.values()];
  const resourceName = (i: number) =>
    (isObject(resources[i]) ? str(resources[i].name) : null) ?? `resource ${i + 1}`;
  /** A field read from every resource (null), or from the one resource declaring it. */
  const resourceOf = (f: TypedField): string | null => {
    if (f.constant !== null || f.resources.length === resources.length) return null;
    if (f.resources.length === 1) return resourceName(f.resources[0]);
    throw new PackageRefused(
      `${f.at}.name`,
      f.name,
      `field "${f.name}" is typed in ${f.resources.map(resourceName).join(', ')} but not in every resource: their schemas must agree, or type it in one`,
    );
  };

  for (const f of fields) {
    const { how, from } = f.resolved;
    if (how === 'prefix')
      warnings.push(
        `field ${f.name}: columnType "${f.columnType}" is not in the taxonomy: read as "${from}", the type it extends (the spec's custom types)`,
      );
    else if (how === 'concept')
      warnings.push(
        `field ${f.name}: columnType "${f.columnType}" is not in the taxonomy and extends no type of it: a dimension of its own, of the kind "${from}" says`,
      );
    else if (how === 'unknown')
      warnings.push(
        `field ${f.name}: columnType "${f.columnType}" is not in the taxonomy: a dimension of its own, of type OTHER (the spec allows types it does not list)`,
      );
  }

  // Measures: the `value` fields.
  const measures: Json = {};
  const measureAt = new Map<string, string>();
  const currencyColumn = fields.find((f) => f.columnType === 'value-currency:code');
  for (const f of fields.filter((x) => x.resolved.def.measure)) {
    if (f.constant !== null)
      throw new PackageRefused(`${f.at}.constant`, f.name, 'a value field must be a column of the file');
    const r = resources[f.resources[0]];
    const currency =
      measureProp(f.field, 'currency') ??
      (isObject(r) ? r.currency : undefined) ??
      currencyColumn?.constant ??
      json.currency;
    measures[f.name] = {
      source: f.name,
      resource: resourceOf(f),
      ...(currency !== undefined ? { currency } : {}),
      ...Object.fromEntries(
        ['factor', 'direction', 'phase']
          .map((p) => [p, measureProp(f.field, p)])
          .filter(([, v]) => v !== undefined),
      ),
    };
    measureAt.set(f.name, f.at);
  }
  if (!Object.keys(measures).length)
    throw new PackageRefused(
      'resources',
      null,
      'no field has columnType "value": the package types its fields (Fiscal Data Package 1.0) but gives no figures',
    );

  // Dimensions: code nodes, each a level, chained by parent; labels and descriptions attached to them.
  const dimFields = fields.filter((f) => !f.resolved.def.measure);
  for (const f of dimFields)
    if (
      ['phase:id', 'direction', 'value-kind:code', 'value-currency:code'].includes(f.columnType) &&
      f.constant === null
    )
      warnings.push(
        `field ${f.name} (${f.columnType}) is a column of each row's ${f.columnType.split(':')[0]}: stored as a dimension; a figure's own phase, direction and currency are its value field's (phase, direction, currency properties)`,
      );
  interface Node {
    type: string;
    def: ColumnTypeDef;
    code: TypedField;
    labels: TypedField[];
  }
  const nodes = new Map<string, Node>();
  const defOf = (t: string) => types.get(t) ?? resolve(t, types).def;
  const isDescription = (f: TypedField) =>
    /:description$/.test(f.columnType) && !f.resolved.def.unique && !f.resolved.def.labelfor;
  const describes = (f: TypedField) => {
    const base = f.columnType.replace(/:description$/, '');
    return [`${base}:code`, `${base}:id`].find((t) => nodes.has(t)) ?? null;
  };
  /** A code type (a level), or a field that neither codes, labels nor describes: a value of its own, keyed by its name. */
  const addNode = (codeType: string | null, f: TypedField) => {
    const type = codeType ?? `${f.columnType}#${f.name}`;
    const other = nodes.get(type);
    if (other)
      throw new PackageRefused(
        `${f.at}.columnType`,
        f.columnType,
        `fields "${other.code.name}" and "${f.name}" are both of columnType "${type}": a code is given by one field (type its labels with the matching label type)`,
      );
    nodes.set(type, { type, def: codeType === null ? f.resolved.def : defOf(type), code: f, labels: [] });
  };
  const labels = dimFields.filter((f) => f.resolved.def.labelfor && !f.resolved.def.unique);
  const descriptions = dimFields.filter((f) => !labels.includes(f) && isDescription(f));
  for (const f of dimFields)
    if (!labels.includes(f) && !descriptions.includes(f))
      addNode(f.resolved.def.unique ? f.columnType : null, f);
  for (const f of labels) {
    const target = f.resolved.def.labelfor!;
    const node = nodes.get(target);
    if (node) node.labels.push(f);
    else {
      warnings.push(
        `field ${f.name} (${f.columnType}) labels "${target}", which no field has: its text is read as the code`,
      );
      addNode(target, f);
    }
  }
  for (const f of descriptions) {
    const target = describes(f);
    const node = target === null ? null : nodes.get(target)!;
    if (!node) addNode(null, f);
    else if (node.labels.length)
      warnings.push(
        `field ${f.name} (${f.columnType}) describes codes that a label field names: not read (a description is no label)`,
      );
    else {
      warnings.push(
        `field ${f.name} (${f.columnType}) describes codes no label field names: read as their label`,
      );
      node.labels.push(f);
    }
  }

  // The level above each node: the nearest ancestor type a field gives ("missing levels are simply ignored").
  const parentOf = new Map<Node, Node>();
  for (const n of nodes.values()) {
    const seen = new Set([n.type]);
    let p = n.def.parent;
    while (p && !nodes.has(p) && !seen.has(p)) {
      seen.add(p);
      p = defOf(p).parent;
    }
    if (p && nodes.has(p) && p !== n.type) parentOf.set(n, nodes.get(p)!);
  }
  const childOf = new Map<Node, Node>();
  for (const [child, parent] of parentOf) {
    const other = childOf.get(parent);
    if (other)
      throw new PackageRefused(
        `${child.code.at}.columnType`,
        child.code.columnType,
        `fields "${other.code.name}" and "${child.code.name}" are both the level below "${parent.code.name}" (${parent.type}): a dimension's levels form one chain`,
      );
    childOf.set(parent, child);
  }
  const roots = [...nodes.values()].filter((n) => !parentOf.has(n));
  const concept = (n: Node) => n.type.split(':')[0];
  const perConcept = new Map<string, number>();
  for (const n of roots)
    if (!n.type.includes('#')) perConcept.set(concept(n), (perConcept.get(concept(n)) ?? 0) + 1);
  const kinds = new Map<string, ClassificationType>();
  const languages = new Map<string, Language>();
  const built: { key: string; d: Json; order: number; fiscalYear: boolean; datetime: boolean }[] = [];
  for (const root of roots) {
    const chainNodes: Node[] = [];
    for (let n: Node | undefined = root; n && !chainNodes.includes(n); n = childOf.get(n)) chainNodes.push(n);
    // A code dimension is named by its concept (as os-types names it), or by its type when the concept has
    // several; a field that is no code, by the field.
    let key = root.type.includes('#')
      ? root.code.name
      : perConcept.get(concept(root))! > 1
        ? root.type.replace(PART, '').split(':').join('-')
        : concept(root);
    key = key.slice(0, MAX_DIMENSION);
    for (let i = 2; built.some((b) => b.key === key); i++) key = `${key.slice(0, MAX_DIMENSION - 4)}-${i}`;
    const attributes: Json = {};
    const attr = (f: TypedField, extra: Json) => ({
      ...(f.constant !== null ? { constant: f.constant } : { source: f.name }),
      ...(resourceOf(f) !== null ? { resource: resourceOf(f) } : {}),
      ...extra,
    });
    chainNodes.forEach((n, i) => {
      attributes[n.code.name] = attr(n.code, i ? { parent: chainNodes[i - 1].code.name } : {});
      for (const l of n.labels) {
        attributes[l.name] = attr(l, { labelfor: n.code.name });
        const last = l.columnType.split(':').pop()!.toLowerCase();
        if ((LANGUAGES as readonly string[]).includes(last)) languages.set(l.name, last as Language);
      }
    });
    const isCofog = chainNodes.some((n) => n.type.startsWith('functional-classification:cofog:'));
    built.push({
      key,
      d: {
        ...(root.def.dimensionType ? { dimensionType: root.def.dimensionType } : {}),
        ...(root.def.classificationType ? { classificationType: root.def.classificationType } : {}),
        ...(isCofog ? { classification: 'cofog' } : {}),
        primaryKey: chainNodes.map((n) => n.code.name),
        attributes,
      },
      order: Math.min(...chainNodes.flatMap((n) => [n.code, ...n.labels].map((f) => f.order))),
      fiscalYear: chainNodes.some((n) => n.type === 'date:fiscal-year'),
      datetime: root.def.dimensionType === 'datetime',
    });
    kinds.set(key, kindOf(root.def, concept(root)));
  }
  if (!built.length)
    throw new PackageRefused(
      'resources',
      null,
      'no field types a dimension: the package types only values (Fiscal Data Package 1.0)',
    );
  built.sort((a, b) => a.order - b.order);
  // The fiscal year is read from the first date dimension: the fiscal year's, when a field gives one.
  const fy = built.findIndex((b) => b.fiscalYear);
  const firstDate = built.findIndex((b) => b.datetime);
  if (fy > firstDate && firstDate >= 0) built.splice(firstDate, 0, ...built.splice(fy, 1));
  warnings.push(
    `the package types its fields with "columnType" (Fiscal Data Package 1.0): read as the measures ${Object.keys(measures).join(', ')} and the dimensions ${built.map((b) => `${b.key} (${kinds.get(b.key)}: ${(b.d.primaryKey as string[]).join(' > ')})`).join(', ')}`,
  );
  return { measures, dimensions: built.map((b) => [b.key, b.d]), kinds, languages, measureAt };
}
