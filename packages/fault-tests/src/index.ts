// What other suites (packages/ha-tests) reuse: the scenario world, the invariant checker, the client helpers, figures.
export { createScenario, type Scenario, type ScenarioDatabase } from './scenario.js';
export { formatViolations } from './invariants/check-invariants.js';
export type { InvariantReport } from './invariants/types.js';
export { figuresFromReport, printFigures } from './figures/figures.js';
export { monitorHttp, type HttpMonitor } from './runs/http-monitor.js';
export { startPaced } from './runs/paced-starts.js';
export { startWithRetry, type StartOutcome } from './runs/start-with-retry.js';
export { waitUntilAllTerminal } from './runs/wait-terminal.js';
export { buildWorkflow } from './workflows.js';
export { countLogMessages, readLogRecords } from './processes/log-records.js';
