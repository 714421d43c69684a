import { randomUUID } from 'node:crypto';
import { createClient, SagaFlowError, type RunStatus, type RunView, type SagaFlowClient } from '@sagaflow/client';

/** A demo step failed: the message is printed and the script exits 1. */
export class DemoFailure extends Error {}

interface DemoSettings {
  apiUrl: string;
  paymentsUrl: string;
  inventoryUrl: string;
  timeoutMs: number;
}

/**
 * SAGAFLOW_URL (API, default http://localhost:3000), SAGAFLOW_SERVICE_PAYMENTS_URL and
 * SAGAFLOW_SERVICE_INVENTORY_URL (mocks, default :3001 / :3002), DEMO_TIMEOUT_S (default 60).
 */
function readDemoSettings(env: NodeJS.ProcessEnv): DemoSettings {
  const timeoutSeconds = Number(env.DEMO_TIMEOUT_S || 60);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new DemoFailure(`DEMO_TIMEOUT_S must be a positive number, got "${env.DEMO_TIMEOUT_S}"`);
  return {
    apiUrl: env.SAGAFLOW_URL || 'http://localhost:3000',
    paymentsUrl: env.SAGAFLOW_SERVICE_PAYMENTS_URL || 'http://localhost:3001',
    inventoryUrl: env.SAGAFLOW_SERVICE_INVENTORY_URL || 'http://localhost:3002',
    timeoutMs: timeoutSeconds * 1000,
  };
}

const POLL_INTERVAL_MS = 500;
const TERMINAL: readonly RunStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

/** Starts an order-processing run (a fresh order id, also the idempotency key) and returns its id. */
export async function startOrder(
  client: SagaFlowClient,
  settings: DemoSettings,
  extraInput: Record<string, unknown> = {},
): Promise<string> {
  const orderId = `order-${randomUUID()}`;
  const input = { orderId, amount: 42.5, currency: 'EUR', sku: 'sku-123', quantity: 1, email: 'buyer@example.com' };
  console.log(`POST ${settings.apiUrl}/v1/workflows/order-processing/start  (idempotency-key: ${orderId})`);
  try {
    const { runId } = await client.workflows.start(
      'order-processing',
      { input: { ...input, ...extraInput } },
      { idempotencyKey: orderId },
    );
    console.log(`run ${runId} accepted`);
    return runId;
  } catch (error) {
    if (error instanceof SagaFlowError && error.status === 404)
      throw new DemoFailure(`start answered 404 (${error.message}): is order-processing registered? run 'pnpm seed'`);
    if (error instanceof SagaFlowError) throw new DemoFailure(`start answered ${error.status}: ${error.message}`);
    throw new DemoFailure(`cannot reach the API at ${settings.apiUrl} (is 'npm start' running?): ${errorText(error)}`);
  }
}

/** One line per change: the run's status, then each step's status (and its compensation's, once it has one). */
function describeView(view: RunView): string {
  const steps = view.steps.map(
    (step) => `${step.stepId}=${step.status}${step.compensationStatus === 'NONE' ? '' : `/${step.compensationStatus}`}`,
  );
  return `${view.run.status.padEnd(12)} ${steps.join('  ')}`;
}

/** Prints each change of the run until it is terminal; fails unless it ends `expected` within the timeout. */
export async function followRun(
  client: SagaFlowClient,
  runId: string,
  expected: RunStatus,
  timeoutMs: number,
): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const view = await client.runs.get(runId);
    const line = describeView(view);
    if (line !== last) console.log(`  ${line}`);
    last = line;
    const status = view.run.status;
    if (status === expected) return view;
    if (TERMINAL.includes(status))
      throw new DemoFailure(`run ended ${status}, expected ${expected}: ${JSON.stringify(view.run.error)}`);
    if (Date.now() >= deadline) throw new DemoFailure(`run ${runId} still ${status} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Runs a demo: its failures print `demo: <reason>` on stderr and exit 1. */
export async function runDemo(main: (client: SagaFlowClient, settings: DemoSettings) => Promise<void>): Promise<void> {
  try {
    const settings = readDemoSettings(process.env);
    await main(createClient({ baseUrl: settings.apiUrl }), settings);
  } catch (error) {
    console.error(`demo: ${errorText(error)}`);
    process.exitCode = 1;
  }
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
