import { runUntilSignal, startSubgraph } from '@civic/common/bootstrap';
import { loadConfig } from '../../catalog';
import { budgetsSubgraph } from './server';

/** Runs the budgets subgraph alone (docker-compose, production): config from the environment. */
runUntilSignal(async () => [(await startSubgraph(budgetsSubgraph, loadConfig())).service]);
