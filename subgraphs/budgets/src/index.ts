import { runUntilSignal, startSubgraph } from '../../../common/src/bootstrap';
import { loadConfig } from '../../../common/src/config';
import { budgetsSubgraph } from './server';

/** Runs the budgets subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(budgetsSubgraph, loadConfig())).service]);
