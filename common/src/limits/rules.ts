import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { OperationLimits } from '../config';
import { OperationLimitError, type LimitErrorCode } from './errors';

/**
 * GraphQL Armor reports a rejection as `Syntax Error: <limit> of N exceeded, found M.` (or throws it); this
 * reports it instead as an {@link OperationLimitError} with its own code, the limit and the measured value.
 */
function armor(code: LimitErrorCode, what: string, n: number) {
  return {
    n,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, err: GraphQLError) => {
        const measured = Number(/found (\d+)/.exec(err.message)?.[1] ?? NaN);
        context?.reportError(
          new OperationLimitError(code, `${what}: ${measured}, more than the ${n} allowed`, n, measured),
        );
      },
    ],
    onAccept: [],
  };
}

/**
 * Counts the root fields and the fields of an operation once every fragment spread is expanded (what Apollo
 * Router calls its height): a document of a few fragments each spreading the next twice is small, but its
 * expansion doubles at each level, and so does the gateway's query planning. Each fragment is counted once
 * and remembered, so counting is linear in the document; a cycle (refused by graphql's NoFragmentCycles rule)
 * counts as nothing here.
 */
export function fieldCountRule(limits: Pick<OperationLimits, 'maxRootFields' | 'maxFields'>): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(op: OperationDefinitionNode) {
      const getFragment = (name: string) => context.getFragment(name);
      const roots = countFields(op.selectionSet, getFragment, true);
      if (roots > limits.maxRootFields) {
        context.reportError(
          new OperationLimitError(
            'TOO_MANY_ROOT_FIELDS',
            `Root fields: ${roots}, more than the ${limits.maxRootFields} allowed in one operation`,
            limits.maxRootFields,
            roots,
          ),
        );
      }
      const fields = countFields(op.selectionSet, getFragment);
      if (fields > limits.maxFields) {
        context.reportError(
          new OperationLimitError(
            'TOO_MANY_FIELDS',
            `Fields once fragments are expanded: ${fields}, more than the ${limits.maxFields} allowed`,
            limits.maxFields,
            fields,
          ),
        );
      }
      return false;
    },
  });
}

/**
 * The fields of a selection set once its fragment spreads are expanded (only its top level with
 * `topOnly`): linear in the document, as each fragment is counted once and remembered, however often it is
 * spread; so 15 levels of fan-out give their exact 2^15 without expanding anything.
 */
export function countFields(
  set: SelectionSetNode,
  getFragment: (name: string) => FragmentDefinitionNode | null | undefined,
  topOnly = false,
): number {
  const memo = new Map<string, number>();
  const expanding = new Set<string>();
  const count = (selections: SelectionSetNode | undefined): number => {
    let n = 0;
    for (const s of selections?.selections ?? []) {
      if (s.kind === Kind.FIELD) n += 1 + (topOnly ? 0 : count(s.selectionSet));
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet);
      else n += fragment(getFragment(s.name.value));
    }
    return Math.min(n, Number.MAX_SAFE_INTEGER);
  };
  const fragment = (def: FragmentDefinitionNode | null | undefined): number => {
    if (!def || expanding.has(def.name.value)) return 0;
    const name = def.name.value;
    const known = memo.get(name);
    if (known !== undefined) return known;
    expanding.add(name);
    const n = count(def.selectionSet);
    expanding.delete(name);
    memo.set(name, n);
    return n;
  };
  return count(set);
}

/**
 * The validation rules of the operation limits, run with graphql's own rules before an operation is planned
 * or executed: depth, aliases and directives by GraphQL Armor, root fields and expanded fields by
 * {@link fieldCountRule}. Depth counts fields only (fragments add none); introspection's own nesting (`ofType { ofType ... }`) is not counted as depth, so the
 * explorer's schema query passes.
 */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    // Depth is the nesting of fields: a fragment spread or inline fragment adds none.
    maxDepthRule({
      ...armor('QUERY_TOO_DEEP', 'Depth', limits.maxDepth),
      ignoreIntrospection: true,
      flattenFragments: true,
    }),
    // Every alias counts, `__typename`'s too (Armor's default spares them): each is a field to plan.
    maxAliasesRule({ ...armor('TOO_MANY_ALIASES', 'Aliases', limits.maxAliases), allowList: [] }),
    maxDirectivesRule(armor('TOO_MANY_DIRECTIVES', 'Directives', limits.maxDirectives)),
    fieldCountRule(limits),
    knownOperationTypesRule,
  ];
}

/**
 * An operation whose type the schema has no root for (`mutation` or `subscription`: the graph is read-only) is
 * a validation error, as graphql-js 17's KnownOperationTypesRule makes it. graphql-js 16 has no such rule, and
 * the gateway's query planner then throws on it: without this, `mutation { __typename }` got a 500.
 */
export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(`This API has no ${node.operation} operations: it answers queries only`, {
        nodes: node,
      }),
    );
  },
});
