import { composeServices } from '@apollo/composition';
import {
  findBreakingChanges,
  findDangerousChanges,
  GraphQLError,
  Kind,
  parse,
  stripIgnoredCharacters,
  visit,
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLSchema,
  type TypeNode,
} from 'graphql';

/** A subgraph as composition sees it: its name, the URL written into the supergraph, its SDL. */
export interface SubgraphSdl {
  name: string;
  url: string;
  sdl: string;
}

/**
 * Why a subgraph may not be published (or, as a warning, what a client should know):
 * - `schema`: the SDL does not parse;
 * - `composition`: @apollo/composition refuses the set of subgraphs (its code and message);
 * - `breaking`: a change that can break a client's operation (graphql-js findBreakingChanges on the API
 *   schemas); as a warning, a dangerous one (findDangerousChanges);
 * - `ownership`: it takes over, provides, hides or redefines what another subgraph owns;
 * - `directive`: it uses a directive the gateway does not enforce.
 */
export interface Problem {
  kind: 'schema' | 'composition' | 'breaking' | 'ownership' | 'directive';
  message: string;
  /** The schema coordinate concerned (`Organization.name`, `Query.organization`, `Money`) when there is one. */
  coordinate?: string;
  /** The other subgraph involved (the owner of what is taken), when there is one. */
  owner?: string;
  /** @apollo/composition's error code, or graphql-js's change type. */
  code?: string;
}

/** What a check found: `problems` refuse the change, `warnings` do not. */
export interface CheckResult {
  ok: boolean;
  problems: Problem[];
  warnings: Problem[];
  /** The supergraph the change would make, when it composes. */
  supergraphSdl?: string;
}

/** Directives the gateway does not enforce: a field under them would be served to anyone. */
const UNENFORCED = ['authenticated', 'requiresScopes', 'policy'];

/** Federation's own types and scalars, which every subgraph may declare. */
const isFederationName = (name: string) =>
  name.startsWith('_') ||
  name.startsWith('link__') ||
  name.startsWith('federation__') ||
  name.startsWith('join__') ||
  ['FieldSet', 'Import', 'Purpose', 'ContextFieldValue', 'Scope', 'Policy'].includes(name);

type Composed = { ok: true; supergraphSdl: string; api: GraphQLSchema } | { ok: false; errors: Problem[] };

/**
 * Composes subgraphs into a supergraph with @apollo/composition and derives its API schema (what clients
 * see: no join__ or @inaccessible elements). An SDL that does not parse is reported as a `schema` problem.
 */
export function composeSupergraph(subgraphs: readonly SubgraphSdl[]): Composed {
  const errors: Problem[] = [];
  const services = subgraphs.flatMap(({ name, url, sdl }) => {
    try {
      return [{ name, url, typeDefs: parse(sdl) }];
    } catch (err) {
      errors.push({ kind: 'schema', message: `[${name}] ${describeSyntaxError(err)}` });
      return [];
    }
  });
  if (errors.length) return { ok: false, errors };
  const result = composeServices(services);
  if (result.errors?.length || !result.schema) {
    return {
      ok: false,
      errors: (result.errors ?? []).map((e) => ({
        kind: 'composition',
        message: e.message,
        code: typeof e.extensions?.code === 'string' ? e.extensions.code : undefined,
      })),
    };
  }
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    api: result.schema.toAPISchema().toGraphQLJSSchema(),
  };
}

function describeSyntaxError(err: unknown): string {
  if (err instanceof GraphQLError) {
    const at = err.locations?.[0];
    return at ? `${err.message} (line ${at.line}, column ${at.column})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The changes clients would see between two API schemas: breaking ones and dangerous ones. */
export function apiChanges(
  before: GraphQLSchema,
  after: GraphQLSchema,
): { breaking: Problem[]; dangerous: Problem[] } {
  return {
    breaking: findBreakingChanges(before, after).map((c) => ({
      kind: 'breaking',
      code: c.type,
      message: `Breaking for clients: ${c.description}`,
    })),
    dangerous: findDangerousChanges(before, after).map((c) => ({
      kind: 'breaking',
      code: c.type,
      message: `Dangerous for clients: ${c.description}`,
    })),
  };
}

/**
 * Checks whether `candidate` may join (or replace its previous version among) `current`: the subgraphs
 * served now, ours first. Every rule runs, so one report lists every problem:
 * ownership and directives on the candidate's SDL, then composition of the new set, then the breaking
 * changes between the current supergraph's API schema and the new one.
 */
export function checkSubgraph(opts: {
  current: readonly SubgraphSdl[];
  candidate: SubgraphSdl;
  /** Report breaking changes as warnings instead of problems. */
  allowBreaking?: boolean;
}): CheckResult {
  const { candidate } = opts;
  const others = opts.current.filter((s) => s.name !== candidate.name);
  let doc: DocumentNode;
  try {
    doc = parse(candidate.sdl);
  } catch (err) {
    return {
      ok: false,
      problems: [{ kind: 'schema', message: `The SDL does not parse: ${describeSyntaxError(err)}` }],
      warnings: [],
    };
  }
  const problems = ownershipProblems(doc, others);
  const next = [...others, candidate];
  const result = withComposition(problems, opts.current, next, opts.allowBreaking ?? false);
  const previous = opts.current.find((s) => s.name === candidate.name);
  if (!result.supergraphSdl && previous && !opts.allowBreaking) {
    // The new set does not compose, so there is no API schema to compare with; what this subgraph alone
    // takes away from its previous version is still worth saying in the same report.
    result.problems.push(...ownChanges(previous, candidate));
  }
  return result;
}

/** Breaking changes between a subgraph's previous version and the candidate, each composed on its own. */
function ownChanges(previous: SubgraphSdl, candidate: SubgraphSdl): Problem[] {
  const before = composeSupergraph([previous]);
  const after = composeSupergraph([candidate]);
  return before.ok && after.ok ? apiChanges(before.api, after.api).breaking : [];
}

/** Checks the removal of a partner subgraph: the rest must still compose; what disappears is listed. */
export function checkRemoval(opts: { current: readonly SubgraphSdl[]; name: string }): CheckResult {
  const rest = opts.current.filter((s) => s.name !== opts.name);
  // Removal is decided by whoever removes: its breaking changes are reported, not refused.
  return withComposition([], opts.current, rest, true);
}

function withComposition(
  problems: Problem[],
  current: readonly SubgraphSdl[],
  next: readonly SubgraphSdl[],
  allowBreaking: boolean,
): CheckResult {
  const warnings: Problem[] = [];
  const after = composeSupergraph(next);
  if (!after.ok) {
    problems.push(...after.errors);
    return { ok: false, problems, warnings };
  }
  const before = composeSupergraph(current);
  if (before.ok) {
    const { breaking, dangerous } = apiChanges(before.api, after.api);
    (allowBreaking ? warnings : problems).push(...breaking);
    warnings.push(...dangerous);
  } else {
    warnings.push({
      kind: 'composition',
      message:
        'The subgraphs served now do not compose together any more (the gateway serves an older supergraph), ' +
        `so breaking changes could not be computed: ${before.errors.map((e) => e.message).join('; ')}`,
    });
  }
  return { ok: problems.length === 0, problems, warnings, supergraphSdl: after.supergraphSdl };
}

/* ---------------------------------------------------------------------------------------------------------
 * Ownership. A partner may add its own types and root fields, and add new fields to an entity another
 * subgraph owns by declaring one of that entity's keys. Everything else that exists already belongs to the
 * subgraph that defines it: the partner may not take it over (@override), resolve it too (@shareable,
 * or @external + @provides/@requires), hide it (@inaccessible), or redefine a value type, enum, input or
 * scalar. Composition alone would accept several of these, which is why they are checked here.
 * ------------------------------------------------------------------------------------------------------- */

interface TypeFacts {
  kind: string;
  /** Subgraphs that define it, in order (ours first). */
  definedBy: string[];
  /** Its keys per subgraph that declares one, each normalized (`id`, `country code`). */
  keys: string[];
  /** Each field and the first subgraph that resolves it (not @external). */
  fields: Map<string, string>;
}

interface SubgraphView {
  /** Local directive name → its canonical federation name (`@primaryKey` imported as key → `key`). */
  canonical: (directive: string) => string;
  roots: Map<string, 'Query' | 'Mutation' | 'Subscription'>;
  types: Map<
    string,
    { kind: string; directives: DirectiveNode[]; fields: FieldDefinitionNode[]; interfaces: string[] }
  >;
}

/** Reads what a subgraph's SDL declares: its types (definitions and extensions merged) and root types. */
function view(doc: DocumentNode): SubgraphView {
  const aliases = new Map<string, string>();
  const roots = new Map<string, 'Query' | 'Mutation' | 'Subscription'>();
  const types: SubgraphView['types'] = new Map();
  for (const def of doc.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCHEMA_EXTENSION) {
      for (const d of def.directives ?? []) if (d.name.value === 'link') readImports(d, aliases);
      for (const op of def.operationTypes ?? []) {
        const root = ({ query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const)[
          op.operation
        ];
        roots.set(op.type.name.value, root);
      }
    } else if (
      'name' in def &&
      def.name &&
      def.kind !== Kind.DIRECTIVE_DEFINITION &&
      def.kind !== Kind.OPERATION_DEFINITION &&
      def.kind !== Kind.FRAGMENT_DEFINITION
    ) {
      const name = def.name.value;
      const kind = def.kind.replace(/Extension$/, 'Definition');
      const t = types.get(name) ?? { kind, directives: [], fields: [], interfaces: [] };
      t.directives.push(...((def as { directives?: readonly DirectiveNode[] }).directives ?? []));
      if (
        def.kind === Kind.OBJECT_TYPE_DEFINITION ||
        def.kind === Kind.OBJECT_TYPE_EXTENSION ||
        def.kind === Kind.INTERFACE_TYPE_DEFINITION ||
        def.kind === Kind.INTERFACE_TYPE_EXTENSION
      ) {
        // `_service`, `_entities`: federation's own, in every subgraph's SDL as `{ _service { sdl } }` prints it.
        t.fields.push(...(def.fields ?? []).filter((f) => !['_service', '_entities'].includes(f.name.value)));
        t.interfaces.push(...(def.interfaces ?? []).map((i) => i.name.value));
      }
      types.set(name, t);
    }
  }
  if (![...roots.values()].includes('Query')) roots.set('Query', 'Query');
  if (![...roots.values()].includes('Mutation')) roots.set('Mutation', 'Mutation');
  if (![...roots.values()].includes('Subscription')) roots.set('Subscription', 'Subscription');
  const canonical = (name: string) =>
    aliases.get(name) ?? (name.includes('__') ? name.slice(name.indexOf('__') + 2) : name);
  return { canonical, roots, types };
}

/** `@link(import: ["@key", { name: "@shareable", as: "@share" }])`: renamed imports, local → canonical. */
function readImports(link: DirectiveNode, aliases: Map<string, string>): void {
  const imports = link.arguments?.find((a) => a.name.value === 'import')?.value;
  if (imports?.kind !== Kind.LIST) return;
  for (const item of imports.values) {
    if (item.kind !== Kind.OBJECT) continue;
    const field = (n: string) => {
      const v = item.fields.find((f) => f.name.value === n)?.value;
      return v?.kind === Kind.STRING ? v.value.replace(/^@/, '') : undefined;
    };
    const name = field('name');
    const as = field('as');
    if (name && as) aliases.set(as, name);
  }
}

const argument = (d: DirectiveNode | ConstDirectiveNode, name: string) => {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  return v?.kind === Kind.STRING ? v.value : v?.kind === Kind.BOOLEAN ? String(v.value) : undefined;
};

/** A key's field set, normalized so that `"id"` and `" id "` compare equal. */
function normalizeKey(fields: string): string {
  try {
    return stripIgnoredCharacters(fields);
  } catch {
    return fields.trim().replace(/\s+/g, ' ');
  }
}
/** The top-level fields of a key's field set. */
function keyFields(fields: string): string[] {
  try {
    const op = parse(`{${fields}}`).definitions[0];
    return op.kind === Kind.OPERATION_DEFINITION
      ? op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []))
      : [];
  } catch {
    return [];
  }
}

const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

/** What the other subgraphs own: each type's definers, keys and fields; each root field's subgraph. */
function ownership(others: readonly SubgraphSdl[]): {
  types: Map<string, TypeFacts>;
  rootFields: Map<string, string>;
} {
  const types = new Map<string, TypeFacts>();
  const rootFields = new Map<string, string>();
  for (const sub of others) {
    let v: SubgraphView;
    try {
      v = view(parse(sub.sdl));
    } catch {
      continue; // reported by composition
    }
    for (const [name, t] of v.types) {
      if (isFederationName(name)) continue;
      const root = v.roots.get(name);
      if (root) {
        for (const f of t.fields)
          if (!rootFields.has(`${root}.${f.name.value}`)) rootFields.set(`${root}.${f.name.value}`, sub.name);
        continue;
      }
      const facts: TypeFacts = types.get(name) ?? {
        kind: t.kind,
        definedBy: [],
        keys: [],
        fields: new Map(),
      };
      facts.definedBy.push(sub.name);
      for (const d of t.directives) {
        const fields = v.canonical(d.name.value) === 'key' ? argument(d, 'fields') : undefined;
        if (fields !== undefined) facts.keys.push(normalizeKey(fields));
      }
      for (const f of t.fields) {
        const external = (f.directives ?? []).some((d) => v.canonical(d.name.value) === 'external');
        if (!external && !facts.fields.has(f.name.value)) facts.fields.set(f.name.value, sub.name);
      }
      types.set(name, facts);
    }
  }
  return { types, rootFields };
}

const also = (facts: TypeFacts) =>
  facts.definedBy.length > 1 ? ` (also defined by ${facts.definedBy.slice(1).join(', ')})` : '';

/** The ownership and directive problems of a candidate's SDL against what the other subgraphs own. */
function ownershipProblems(doc: DocumentNode, others: readonly SubgraphSdl[]): Problem[] {
  const problems: Problem[] = [];
  const v = view(doc);
  const owned = ownership(others);
  const has = (directives: readonly DirectiveNode[] | undefined, name: string) =>
    (directives ?? []).find((d) => v.canonical(d.name.value) === name);

  // Directives the gateway would not enforce, wherever they appear.
  const seen = new Set<string>();
  visit(doc, {
    Directive(node, _key, _parent, _path, ancestors) {
      const canonical = v.canonical(node.name.value);
      if (!UNENFORCED.includes(canonical)) return;
      const coordinate = coordinateOf(ancestors);
      const id = `${canonical}@${coordinate}`;
      if (seen.has(id)) return;
      seen.add(id);
      problems.push({
        kind: 'directive',
        coordinate,
        message:
          `@${canonical} on ${coordinate}: the gateway does not enforce @authenticated, @requiresScopes or @policy, ` +
          'so what it guards would be served to anyone. Leave out the directive and the data it would protect.',
      });
    },
  });

  for (const [name, t] of v.types) {
    if (isFederationName(name)) continue;
    const root = v.roots.get(name);
    for (const f of t.fields) {
      const coordinate = `${root ?? name}.${f.name.value}`;
      const override = has(f.directives, 'override');
      if (override) {
        const from = argument(override, 'from');
        problems.push({
          kind: 'ownership',
          coordinate,
          owner: from,
          message:
            `${coordinate} uses @override${from ? `(from: "${from}")` : ''}: a partner subgraph may not take over a ` +
            `field${from ? ` that the ${from} subgraph resolves` : ''}. Add a field of your own instead.`,
        });
      }
      const provides = has(f.directives, 'provides');
      const returned = owned.types.get(namedType(f.type));
      if (provides && returned) {
        problems.push({
          kind: 'ownership',
          coordinate,
          owner: returned.definedBy[0],
          message:
            `${coordinate} uses @provides(fields: "${argument(provides, 'fields') ?? ''}") on ${namedType(f.type)}, ` +
            `a type of the ${returned.definedBy[0]} subgraph: a partner may not answer for another subgraph's fields.`,
        });
      }
    }
    if (root) {
      for (const f of t.fields) {
        const coordinate = `${root}.${f.name.value}`;
        const owner = owned.rootFields.get(coordinate);
        if (owner) {
          problems.push({
            kind: 'ownership',
            coordinate,
            owner,
            message: `${coordinate} is already a root field of the ${owner} subgraph: name yours differently.`,
          });
        }
      }
      continue;
    }
    const facts = owned.types.get(name);
    if (!facts) continue;
    const owner = facts.definedBy[0];
    const isEntity = facts.keys.length > 0;
    if (!isEntity || t.kind !== Kind.OBJECT_TYPE_DEFINITION || facts.kind !== Kind.OBJECT_TYPE_DEFINITION) {
      problems.push({
        kind: 'ownership',
        coordinate: name,
        owner,
        message:
          `${name} is a type of the ${owner} subgraph${also(facts)}: a partner may not define or change it. ` +
          `Give your type a name of its own${isEntity ? `, or extend the entity ${name} by its key` : ''}.`,
      });
      continue;
    }
    // An entity of another subgraph: only by one of its keys, and only to add new fields.
    const keys = t.directives.filter((d) => v.canonical(d.name.value) === 'key');
    const known = [...new Set(facts.keys)];
    if (!keys.length) {
      problems.push({
        kind: 'ownership',
        coordinate: name,
        owner,
        message: `${name} is an entity of the ${owner} subgraph: extend it with @key(fields: "${known[0]}") to add fields to it.`,
      });
    }
    for (const k of keys) {
      const fields = argument(k, 'fields') ?? '';
      if (!known.includes(normalizeKey(fields))) {
        problems.push({
          kind: 'ownership',
          coordinate: name,
          owner,
          message: `@key(fields: "${fields}") is not a key of ${name}, an entity of the ${owner} subgraph; its keys: ${known.map((x) => `"${x}"`).join(', ')}.`,
        });
      }
    }
    for (const directive of ['shareable', 'inaccessible']) {
      if (has(t.directives, directive)) {
        problems.push({
          kind: 'ownership',
          coordinate: name,
          owner,
          message: `${name} is an entity of the ${owner} subgraph: a partner may not mark it @${directive}.`,
        });
      }
    }
    if (t.interfaces.length) {
      problems.push({
        kind: 'ownership',
        coordinate: name,
        owner,
        message: `${name} is an entity of the ${owner} subgraph: a partner may not make it implement ${t.interfaces.join(', ')}.`,
      });
    }
    const keyNames = new Set(known.flatMap(keyFields));
    for (const f of t.fields) {
      const coordinate = `${name}.${f.name.value}`;
      const fieldOwner = facts.fields.get(f.name.value);
      if (keyNames.has(f.name.value)) {
        if (has(f.directives, 'inaccessible')) {
          problems.push({
            kind: 'ownership',
            coordinate,
            owner,
            message: `${coordinate} is the key of an entity of the ${owner} subgraph: a partner may not hide it (@inaccessible).`,
          });
        }
        continue;
      }
      if (fieldOwner && !has(f.directives, 'override')) {
        const how = ['external', 'shareable', 'inaccessible'].filter((d) => has(f.directives, d));
        problems.push({
          kind: 'ownership',
          coordinate,
          owner: fieldOwner,
          message:
            `${coordinate} belongs to the ${fieldOwner} subgraph${how.length ? ` (declared here ${how.map((d) => `@${d}`).join(' ')})` : ''}: ` +
            `a partner may only add new fields to ${name}, besides its key.`,
        });
        continue;
      }
      if (has(f.directives, 'requires')) {
        problems.push({
          kind: 'ownership',
          coordinate,
          owner,
          message: `${coordinate} uses @requires: a partner field may not require fields of the ${owner} subgraph's ${name}.`,
        });
      }
      if (has(f.directives, 'external')) {
        problems.push({
          kind: 'ownership',
          coordinate,
          owner,
          message: `${coordinate} is declared @external on ${name}, an entity of the ${owner} subgraph: only its key may be.`,
        });
      }
    }
  }
  return problems;
}

/** `Type.field`, `Type.field(arg:)` or `Type` for the node a visitor is in, from its ancestors. */
function coordinateOf(ancestors: readonly unknown[]): string {
  const names: string[] = [];
  for (const a of ancestors) {
    if (!a || typeof a !== 'object' || Array.isArray(a) || !('kind' in a)) continue;
    const node = a as { kind: string; name?: { value: string } };
    if (node.kind === Kind.SCHEMA_DEFINITION || node.kind === Kind.SCHEMA_EXTENSION) return 'the schema';
    if (node.name && node.kind !== Kind.DOCUMENT) names.push(node.name.value);
  }
  return names.length > 2 ? `${names[0]}.${names[1]}(${names[2]}:)` : names.join('.');
}
