/**
 * Composes schema/*.graphql into schema/supergraph.graphql with @apollo/composition, failing loudly on any
 * composition error. `--check` composes and fails if the checked-in supergraph differs (CI's drift check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { composeSubgraphs, SUPERGRAPH_PATH } from '@civic/gateway/supergraph';
import { loadConfig } from '@civic/subgraphs/catalog';

const check = process.argv.includes('--check');
const sdl = composeSubgraphs(loadConfig({}).subgraphUrls);
if (check) {
  const current = readFileSync(SUPERGRAPH_PATH, 'utf8');
  if (current !== sdl) {
    console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit the result.');
    process.exit(1);
  }
  console.log('schema/supergraph.graphql is current.');
} else {
  writeFileSync(SUPERGRAPH_PATH, sdl);
  console.log(`Composed ${SUPERGRAPH_PATH}`);
}
