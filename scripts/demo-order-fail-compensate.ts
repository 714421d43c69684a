// `pnpm demo:compensate`: starts an order-processing run whose confirmation email is rejected (input.simulate),
// prints each step's status and compensation until the run is terminal, exits 0 only when it is COMPENSATED
// and the mock services executed the refund and the inventory release for this run exactly once each.
import { DemoFailure, followRun, runDemo, startOrder } from './demo/demo-run.js';
import { countEffects } from './demo/mock-effects.js';

await runDemo(async (client, settings) => {
  console.log('send-confirmation-email will be rejected');
  const runId = await startOrder(client, settings, { simulate: { 'send-confirmation-email': 'reject' } });
  const view = await followRun(client, runId, 'COMPENSATED', settings.timeoutMs);
  console.log(`run ${runId} COMPENSATED: ${JSON.stringify(view.run.error)}`);

  // The engine sends each compensation with X-Idempotency-Key <runId>:<stepId>:compensate.
  const refunds = await countEffects(settings.paymentsUrl, `${runId}:charge-payment:compensate`);
  const releases = await countEffects(settings.inventoryUrl, `${runId}:reserve-inventory:compensate`);
  console.log(`effects: refund-payment x${refunds} (payments), release-inventory x${releases} (inventory)`);
  if (refunds !== 1 || releases !== 1)
    throw new DemoFailure(`expected exactly one refund and one release for run ${runId}`);
  console.log('refund and release executed once each');
});
