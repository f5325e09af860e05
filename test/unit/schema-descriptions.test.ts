import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isIntrospectionType,
  isSpecifiedScalarType,
  type GraphQLNamedType,
} from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { readSupergraph } from '@civic/gateway/supergraph';

/**
 * People explore this schema in an explorer: every type, field, argument, input field and enum value of the
 * public (API) schema must say what it is.
 */
test('every type, field, argument and enum value of the public schema has a description', () => {
  const api = Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
  const missing: string[] = [];
  const check = (where: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(where);
  };
  for (const type of Object.values(api.getTypeMap()) as GraphQLNamedType[]) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const f of Object.values(type.getFields())) {
        check(`${type.name}.${f.name}`, f.description);
        for (const a of f.args) check(`${type.name}.${f.name}(${a.name})`, a.description);
      }
    }
    if (isInputObjectType(type)) {
      for (const f of Object.values(type.getFields())) check(`${type.name}.${f.name}`, f.description);
    }
    if (isEnumType(type)) for (const v of type.getValues()) check(`${type.name}.${v.name}`, v.description);
  }
  expect(missing).toEqual([]);
});
