import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
} from '@apollo/server';
import {
  GraphQLError,
  Kind,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';

/** What is wrong with one string argument value. */
export interface StringProblem {
  /** The argument and where in it the string is: `filter.nameContains`, `ids[3]`, `representations[0].id`. */
  argument: string;
  /** The field or directive the argument belongs to: `organizations`, `@include`. */
  of: string;
  reason: 'too-long' | 'nul' | 'lone-surrogate';
  /** The string's length in characters (code points), for a string that is too long. */
  length?: number;
}

/**
 * Checks one string: at most `max` characters (Unicode code points, so an Arabic or an emoji string counts as
 * a person counts it), no NUL (U+0000: C strings and some drivers cut the value there, and SQLite's LIKE made
 * `nameContains: "\u0000"` match every organization) and no unpaired UTF-16 surrogate (not a character at all:
 * JSON can carry one as `"\ud800"`, UTF-8 cannot encode it, and each driver replaces it differently). Stops at
 * the first problem, and at once for a string too long by its UTF-16 length alone, so a 900 KB value costs
 * nothing to refuse.
 */
export function stringProblem(value: string, max: number): StringProblem['reason'] | 'ok' {
  // Each code point is one or two UTF-16 units: more than 2 * max units is more than max code points.
  if (value.length > 2 * max) return 'too-long';
  let points = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return 'nul';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return 'lone-surrogate';
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'lone-surrogate';
    points++;
  }
  return points > max ? 'too-long' : 'ok';
}

const codePoints = (value: string) => {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
};

/**
 * Finds the first string argument value of `operation` that {@link stringProblem} refuses: in the operation and
 * in every fragment it spreads, in field and directive arguments, literal or from a variable (the request's
 * value, or the variable's default when the request has none), however deep in input objects and lists, custom
 * scalars' values (`_entities`' representations) included. Linear in the document and the variables.
 */
export function findStringProblem(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  max: number,
): StringProblem | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const defaults = new Map<string, VariableDefinitionNode>(
    (operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v]),
  );
  const seen = new Set<string>();
  const checkValue = (value: unknown, path: string, of: string): StringProblem | undefined => {
    if (typeof value === 'string') {
      const reason = stringProblem(value, max);
      if (reason === 'ok') return undefined;
      return { argument: path, of, reason, ...(reason === 'too-long' ? { length: codePoints(value) } : {}) };
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = checkValue(value[i], `${path}[${i}]`, of);
        if (p) return p;
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const p = checkValue(v, `${path}.${k}`, of);
        if (p) return p;
      }
    }
    return undefined;
  };
  const checkNode = (node: ValueNode, path: string, of: string): StringProblem | undefined => {
    switch (node.kind) {
      case Kind.STRING:
        return checkValue(node.value, path, of);
      case Kind.LIST:
        for (let i = 0; i < node.values.length; i++) {
          const p = checkNode(node.values[i], `${path}[${i}]`, of);
          if (p) return p;
        }
        return undefined;
      case Kind.OBJECT:
        for (const f of node.fields) {
          const p = checkNode(f.value, `${path}.${f.name.value}`, of);
          if (p) return p;
        }
        return undefined;
      case Kind.VARIABLE: {
        const name = node.name.value;
        if (variables && Object.prototype.hasOwnProperty.call(variables, name)) {
          return checkValue(variables[name], path, of);
        }
        const fallback = defaults.get(name)?.defaultValue;
        return fallback ? checkNode(fallback, path, of) : undefined;
      }
      default:
        return undefined;
    }
  };
  const checkArguments = (args: readonly ArgumentNode[] | undefined, of: string) => {
    for (const a of args ?? []) {
      const p = checkNode(a.value, a.name.value, of);
      if (p) return p;
    }
    return undefined;
  };
  const checkDirectives = (node: {
    directives?: readonly { name: { value: string }; arguments?: readonly ArgumentNode[] }[];
  }) => {
    for (const d of node.directives ?? []) {
      const p = checkArguments(d.arguments, `@${d.name.value}`);
      if (p) return p;
    }
    return undefined;
  };
  const walk = (set: SelectionSetNode | undefined): StringProblem | undefined => {
    for (const s of set?.selections ?? []) {
      const p =
        checkDirectives(s) ??
        (s.kind === Kind.FIELD
          ? (checkArguments(s.arguments, s.name.value) ?? walk(s.selectionSet))
          : s.kind === Kind.INLINE_FRAGMENT
            ? walk(s.selectionSet)
            : spread(s.name.value));
      if (p) return p;
    }
    return undefined;
  };
  // Each fragment is walked once, however often it is spread (a cycle is refused by validation already).
  const spread = (name: string): StringProblem | undefined => {
    if (seen.has(name)) return undefined;
    seen.add(name);
    const def = fragments.get(name);
    return def ? (checkDirectives(def) ?? walk(def.selectionSet)) : undefined;
  };
  return checkDirectives(operation) ?? walk(operation.selectionSet);
}

/** The error for a {@link StringProblem}: it names the argument and the limit, never repeats the value. */
export function stringProblemError(problem: StringProblem, max: number): GraphQLError {
  const where = `Argument "${problem.argument}" of "${problem.of}"`;
  const message =
    problem.reason === 'too-long'
      ? `${where} is ${problem.length} characters long, more than the ${max} allowed for a string argument`
      : problem.reason === 'nul'
        ? `${where} contains a NUL character (U+0000), which no string argument may contain`
        : `${where} contains an unpaired UTF-16 surrogate, which is not a character: send text as valid Unicode`;
  return new GraphQLError(message, {
    extensions: {
      code: 'BAD_USER_INPUT',
      argumentName: problem.argument.split(/[.[]/)[0],
      argumentPath: problem.argument,
      ...(problem.reason === 'too-long' ? { limit: max, measured: problem.length } : {}),
      http: { status: 400 },
    },
  });
}

/**
 * Wraps a plugin (the limits plugin, common/src/limits/plugin.ts) so that every string argument of the operation,
 * in the document or in its variables, is checked (MAX_STRING_LENGTH, no NUL, no lone surrogate) once the
 * operation is resolved and before the wrapped plugin's own `didResolveOperation`: a refused operation is not
 * costed, spends nothing of its client's rate limit, and is neither planned nor executed. (Apollo runs the
 * `didResolveOperation` of separate plugins at the same time, so a separate plugin could not keep the rate limit
 * from spending.) A request that names no operation is left to the wrapped plugin, which refuses it.
 */
export function withStringLimits<C extends BaseContext>(
  inner: ApolloServerPlugin<C>,
  maxStringLength: number,
): ApolloServerPlugin<C> {
  return {
    ...inner,
    async requestDidStart(start) {
      const listener = (await inner.requestDidStart?.(start)) ?? {};
      return {
        ...listener,
        async didResolveOperation(ctx: GraphQLRequestContextDidResolveOperation<C>) {
          if (ctx.operation) {
            const problem = findStringProblem(
              ctx.document,
              ctx.operation,
              ctx.request.variables,
              maxStringLength,
            );
            if (problem) throw stringProblemError(problem, maxStringLength);
          }
          return listener.didResolveOperation?.(ctx);
        },
      };
    },
  };
}
