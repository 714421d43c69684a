// `pnpm dev`: the whole SagaFlow stack in one terminal. See scripts/dev/run-dev.ts.
import './dev/development-conditions.js';

const { runDev } = await import('./dev/run-dev.js');
await runDev();
