import { runUntilSignal, startSubgraph } from '../../../common/src/bootstrap';
import { loadConfig } from '../../../common/src/config';
import { organizationsSubgraph } from './server';

/** Runs the organizations subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(organizationsSubgraph, loadConfig())).service]);
