import { runUntilSignal, startSubgraph } from '@civic/common/bootstrap';
import { loadConfig } from '../../catalog';
import { commitmentsSubgraph } from './server';

/** Runs the commitments subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(commitmentsSubgraph, loadConfig())).service]);
