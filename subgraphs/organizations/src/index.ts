import { runUntilSignal, startSubgraph } from '@civic/common/bootstrap';
import { loadConfig } from '../../catalog';
import { organizationsSubgraph } from './server';

/** Runs the organizations subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(organizationsSubgraph, loadConfig())).service]);
