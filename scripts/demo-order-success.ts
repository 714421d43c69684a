// `pnpm demo:success`: starts an order-processing run against a running stack (`npm start`), prints each
// step's status until the run is terminal, exits 0 only when it COMPLETED. Settings: scripts/demo/demo-run.ts.
import { followRun, runDemo, startOrder } from './demo/demo-run.js';

await runDemo(async (client, settings) => {
  const runId = await startOrder(client, settings);
  await followRun(client, runId, 'COMPLETED', settings.timeoutMs);
  console.log(`run ${runId} COMPLETED`);
});
