import { waitFor } from '@sagaflow/testkit';
import type { BenchMonitor } from '../bench-monitor.js';
import { createJsonClient, type JsonClient } from '../http-client.js';
import type { ScenarioResult } from '../results.js';
import type { BulkRedriveScenario } from '../scenarios.js';
import { beforeDeadline, type ScenarioContext } from '../scenario-context.js';
import type { ServiceStack } from '../service-stack.js';
import { budgetResult, openBudgetWindow } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';
import { measureBurst, warmUp } from './measure-burst.js';

/** The workflow of the runs to redrive: one step on a path the bench downstream answers 404 (a permanent failure). */
const FAILING_WORKFLOW = 'bench-redrive';
const SEED_IN_FLIGHT = 32;
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function registerFailingWorkflow(client: JsonClient, stack: ServiceStack): Promise<void> {
  const response = await client.post(
    '/v1/admin/workflows',
    {
      name: FAILING_WORKFLOW,
      version: '1.0.0',
      description: 'pnpm bench bulk-redrive: runs that fail at once (404), to be redriven',
      steps: [{ id: 'gone', request: { method: 'POST', url: `${stack.downstreamUrl.replace(/\/+$/, '')}/gone` } }],
    },
    { 'x-admin-token': stack.adminToken },
  );
  if (response.status !== 201)
    throw new Error(`registering ${FAILING_WORKFLOW} answered ${response.status}: ${JSON.stringify(response.body)}`);
}

/** Starts `count` runs of the failing workflow through the API and waits until all of them are FAILED. */
async function seedFailedRuns(client: JsonClient, monitor: BenchMonitor, count: number, timeoutMs: number) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const seq = next++;
      const response = await client.post(`/v1/workflows/${FAILING_WORKFLOW}/start`, { input: { seed: seq } });
      if (response.status !== 202) throw new Error(`seed start ${seq} answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: SEED_IN_FLIGHT }, worker));
  await waitFor(
    async () => {
      const [row] = await monitor.query<{ n: number }>(
        `select count(*)::int as n from workflow_runs where workflow_name = $1 and status = 'FAILED'`,
        [FAILING_WORKFLOW],
      );
      return (row?.n ?? 0) >= count;
    },
    { timeoutMs, intervalMs: 500, description: `${count} seeded runs to be FAILED` },
  );
}

interface OperationRow {
  status: string;
  total: number;
  succeeded: number;
  skipped: number;
  failed: number;
  created: number;
  finished: number | null;
}

async function readOperation(monitor: BenchMonitor, operationId: string): Promise<OperationRow | undefined> {
  const [row] = await monitor.query<OperationRow>(
    `select o.status, o.total,
            (select count(*) filter (where state = 'SUCCEEDED') from operation_runs where operation_id = o.id)::int as succeeded,
            (select count(*) filter (where state = 'SKIPPED') from operation_runs where operation_id = o.id)::int as skipped,
            (select count(*) filter (where state = 'FAILED') from operation_runs where operation_id = o.id)::int as failed,
            (extract(epoch from o.created_at) * 1000)::float8 as created,
            (extract(epoch from o.finished_at) * 1000)::float8 as finished
       from operations o where o.id = $1`,
    [operationId],
  );
  return row;
}

/**
 * SPEC §18 (issue #13): a bulk redrive of `failedRuns` runs at `ratePerSecond` finishes in ≤ 15 s without lowering the
 * burst throughput of other runs by more than 20 %. Seeds the FAILED runs through the product (a one-step workflow on a
 * path the downstream answers 404), measures a burst of the bench saga alone, then the same burst started together with
 * a redrive operation created through POST /v1/admin/operations: the operation's time is created_at → finished_at
 * (COMPLETED), the burst's steps/s the same figure as alone. The redriven runs run their step again (and fail again):
 * that engine work is part of the redrive's cost.
 */
export async function runBulkRedrive(ctx: ScenarioContext, spec: BulkRedriveScenario): Promise<ScenarioResult> {
  return onFreshStack(ctx, spec.name, { engines: ctx.engines, withEngines: true }, async (run) => {
    const { label, stack } = run;
    const monitor = run.monitor();
    const client = createJsonClient(stack.apiUrl, 32);
    try {
      await registerFailingWorkflow(client, stack);
      ctx.say(`${label}: seeding ${spec.failedRuns} FAILED runs through the API`);
      const seedStart = performance.now();
      await beforeDeadline(
        seedFailedRuns(client, monitor, spec.failedRuns, spec.timeoutMs),
        Date.now() + spec.timeoutMs,
        `${label}: seeding`,
      );
      const seedMs = performance.now() - seedStart;
      ctx.say(`${label}: seeded in ${round(seedMs / 1000)} s`);
      await warmUp(client, monitor, ctx.warmup);
      // the first burst after a warm-up runs slower than the next ones (docs/performance.md, session 14): not measured
      const priming = await measureBurst(client, monitor, spec.burstRuns, spec.timeoutMs);
      ctx.say(`${label}: priming burst (not measured) ${priming.stepsPerSecond} steps/s`);
      const window = await openBudgetWindow(stack);
      ctx.say(`${label}: burst of ${spec.burstRuns} runs alone`);
      const alone = await measureBurst(client, monitor, spec.burstRuns, spec.timeoutMs);
      ctx.say(`${label}: alone ${alone.stepsPerSecond} steps/s over ${round(alone.windowMs / 1000, 2)} s`);

      ctx.say(`${label}: redrive of ${spec.failedRuns} runs at ${spec.ratePerSecond}/s with the same burst`);
      const created = await client.post(
        '/v1/admin/operations',
        {
          action: 'redrive',
          filter: { workflowName: FAILING_WORKFLOW, status: ['FAILED'] },
          ratePerSecond: spec.ratePerSecond,
          reason: 'pnpm bench bulk-redrive',
        },
        { 'x-admin-token': stack.adminToken },
      );
      const operationId = (created.body as { operationId?: unknown } | null)?.operationId;
      if (created.status !== 202 || typeof operationId !== 'string')
        throw new Error(`creating the operation answered ${created.status}: ${JSON.stringify(created.body)}`);
      const during = await measureBurst(client, monitor, spec.burstRuns, spec.timeoutMs);
      let operation: OperationRow | undefined;
      await waitFor(
        async () => {
          operation = await readOperation(monitor, operationId);
          return operation?.status === 'COMPLETED';
        },
        { timeoutMs: spec.timeoutMs, intervalMs: 100, description: 'the redrive operation to complete' },
      );
      const op = operation!;
      const operationMs = round(op.finished! - op.created);
      // how much of the burst ran while the operation did
      const overlapMs = Math.max(
        0,
        Math.min(during.lastCompletedMs, op.finished!) - Math.max(during.firstCreatedMs, op.created),
      );
      const drop = round((1 - during.stepsPerSecond / alone.stepsPerSecond) * 100);
      ctx.say(
        `${label}: operation COMPLETED in ${round(operationMs / 1000, 2)} s (${op.succeeded} redriven, ${op.skipped} skipped, ${op.failed} failed); ` +
          `burst ${during.stepsPerSecond} steps/s with it vs ${alone.stepsPerSecond} alone (${drop} % lower), ` +
          `${round((overlapMs / during.windowMs) * 100)} % of the burst overlapped the operation`,
      );
      const problems: string[] = [];
      if (op.total !== spec.failedRuns) problems.push(`the operation took ${op.total} runs, not ${spec.failedRuns}`);
      if (op.succeeded !== spec.failedRuns)
        problems.push(`${op.succeeded} runs redriven, ${op.skipped} skipped, ${op.failed} failed`);
      return await budgetResult(ctx, spec, run, window, {
        units: alone.attempts + during.attempts,
        runs: alone.runs + during.runs,
        problems,
        budget: {
          kind: 'bulk-redrive',
          failedRuns: spec.failedRuns,
          ratePerSecond: spec.ratePerSecond,
          seedMs: round(seedMs),
          operationMs,
          redriven: op.succeeded,
          skipped: op.skipped,
          failed: op.failed,
          burstRuns: spec.burstRuns,
          aloneStepsPerSecond: alone.stepsPerSecond,
          duringStepsPerSecond: during.stepsPerSecond,
          burstDropPercent: drop,
          overlapPercent: round((overlapMs / during.windowMs) * 100),
        },
      });
    } finally {
      client.close();
    }
  });
}
