import { runUntilSignal, startSubgraph } from '../../../common/src/bootstrap';
import { loadConfig } from '../../../common/src/config';
import { commitmentsSubgraph } from './server';

/** Runs the commitments subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(commitmentsSubgraph, loadConfig())).service]);
