import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type DocumentNode } from 'graphql';

/** The folder of the SDL files, resolved from this file, never from the working directory. */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

/** A subgraph's SDL: its own file plus the shared value types of schema/common.graphql. */
export function subgraphSdl(name: string): string {
  const read = (f: string) => readFileSync(join(SCHEMA_DIR, f), 'utf8');
  return `${read(`${name}.graphql`)}\n${read('common.graphql')}`;
}

export function subgraphTypeDefs(name: string): DocumentNode {
  return parse(subgraphSdl(name));
}
