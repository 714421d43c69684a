// `pnpm demo:refund`: starts a refund-flow@1.1.0 run against a running stack (`npm start`), waits until it waits for
// its `approval` signal, sends the signal (with an idempotency key) and follows the run to COMPLETED; exits 0 only
// then. The definition language has no conditional step, so refund-flow@1.1.0 always waits; the approval (the
// signal's payload, the output of the await-approval step) says who approved and the amount. Settings: demo/demo-run.ts.
import { randomUUID } from 'node:crypto';
import { SagaFlowError } from '@sagaflow/client';
import { DemoFailure, followRun, runDemo } from './demo/demo-run.js';

const POLL_INTERVAL_MS = 200;

await runDemo(async (client, settings) => {
  const refundId = `refund-${randomUUID()}`;
  const input = {
    refundId,
    orderId: `order-${randomUUID()}`,
    amount: 250,
    currency: 'EUR',
    email: 'buyer@example.com',
  };
  console.log(`POST ${settings.apiUrl}/v1/workflows/refund-flow/start  (version 1.1.0, amount ${input.amount})`);
  let runId: string;
  try {
    ({ runId } = await client.workflows.start(
      'refund-flow',
      { input, version: '1.1.0' },
      { idempotencyKey: refundId },
    ));
  } catch (error) {
    if (error instanceof SagaFlowError)
      throw new DemoFailure(
        `start answered ${error.status} (${error.message}): is refund-flow@1.1.0 registered? run 'pnpm seed'`,
      );
    throw error;
  }
  console.log(`run ${runId} accepted; waiting for it to wait for approval`);

  const deadline = Date.now() + settings.timeoutMs;
  for (;;) {
    const { events } = await client.runs.events(runId, { waitMs: 1_000 });
    const waiting = events.find((e) => e.type === 'STEP_WAITING');
    if (waiting) {
      console.log(`  ${waiting.stepId} waits for a signal until ${String(waiting.data['until'])}`);
      break;
    }
    if (Date.now() >= deadline) throw new DemoFailure(`run ${runId} did not reach its approval step in time`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }

  const approval = { approved: true, by: 'demo-operator', amount: input.amount };
  console.log(`POST ${settings.apiUrl}/v1/runs/${runId}/signals/approval  ${JSON.stringify(approval)}`);
  const signal = await client.runs.signal(runId, 'approval', approval, { idempotencyKey: `approve-${refundId}` });
  console.log(`  signal ${signal.signalId} accepted`);

  const view = await followRun(client, runId, 'COMPLETED', Math.max(1_000, deadline - Date.now()));
  const output = view.steps.find((s) => s.stepId === 'await-approval')?.output;
  console.log(`run ${runId} COMPLETED; await-approval output ${JSON.stringify(output)}`);
});
