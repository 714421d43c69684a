import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { killAll, type EngineProcess } from '../src/processes/engine-process.js';
import { readAttempts, readLiveItem, readOutboxRows, waitForTerminalRun } from '../src/runs/outbox-rows.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const MAX_DELIVERIES = 2;
/** held requests must outlast an engine start on a busy machine (13 s seen): no attempt may time out meanwhile */
const HOLD_TIMEOUT_MS = 120_000;
const ENV = { ENGINE_LEASE_MS: '3000', ENGINE_MAX_DELIVERIES: String(MAX_DELIVERIES) };

/** An item whose worker dies on every delivery is parked after ENGINE_MAX_DELIVERIES instead of looping forever. */
describe('poison items', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
  });
  afterEach(async () => {
    await killAll(scenario.engines);
  });
  afterAll(async () => {
    await scenario?.close();
  });

  const requestsOf = (runId: string, stepId: string, kind = 'action') =>
    scenario.downstream.requests({ runId }).filter((r) => r.stepId === stepId && r.kind === kind);

  it('parks an action whose engine is killed on every delivery, then compensates the earlier step', async () => {
    await scenario.register(
      buildWorkflow('poison-action', scenario.downstream.url, [
        { id: 'reserve', compensated: true },
        { id: 'charge', timeoutMs: HOLD_TIMEOUT_MS },
      ]),
    );
    // every delivery of "charge" hangs until its engine is killed
    scenario.downstream.setScript((r) => (r.stepId === 'charge' ? { type: 'hold' } : { status: 200 }));
    let current: EngineProcess = await scenario.startEngine('poison-1', ENV);
    const { runId } = await startRun(scenario.db, { workflowName: 'poison-action', input: {}, correlationId: 'p-1' });

    for (let delivery = 1; delivery <= MAX_DELIVERIES; delivery++) {
      await waitFor(() => requestsOf(runId, 'charge').length === delivery, {
        timeoutMs: 20_000,
        description: `delivery ${delivery} of "charge"`,
      });
      expect(await readLiveItem(scenario.db, runId)).toMatchObject({
        stepIndex: 1,
        kind: 'action',
        leaseOwner: current.id,
        deliveries: delivery,
      });
      // the next engine is already polling: it can only take the item once the dead one's lease has expired
      const next = await scenario.startEngine(`poison-${delivery + 1}`, ENV);
      await current.process.kill('SIGKILL');
      current = next;
    }

    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED', stepId: 'charge' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['reserve', 'SUCCEEDED', 'COMPENSATED'],
      ['charge', 'FAILED', 'NONE'],
    ]);
    expect(view.steps[1]!.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED' });
    // parked on the claim after the last allowed delivery: no third request was sent
    expect(requestsOf(runId, 'charge')).toHaveLength(MAX_DELIVERIES);
    expect(await readOutboxRows(scenario.db, runId)).toEqual([
      expect.objectContaining({
        stepIndex: 1,
        kind: 'action',
        status: 'DEAD',
        deliveries: MAX_DELIVERIES + 1,
        lastError: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
      }),
    ]);
    expect(await readAttempts(scenario.db, runId)).toEqual([
      [0, 'action', 1, 'SUCCEEDED'],
      [0, 'compensation', 1, 'SUCCEEDED'],
    ]);
  });

  it('fails the run with DELIVERY_EXHAUSTED when the parked action has nothing to compensate', async () => {
    await scenario.register(buildWorkflow('poison-alone', scenario.downstream.url, [{ id: 'only' }]));
    scenario.downstream.setScript(() => ({ status: 200 }));
    const { runId } = await startRun(scenario.db, { workflowName: 'poison-alone', input: {}, correlationId: 'p-2' });
    // as if MAX_DELIVERIES workers had died on it already
    await sql`update outbox set deliveries = ${MAX_DELIVERIES} where run_id = ${runId}`.execute(scenario.db);
    await scenario.startEngine('poison-alone', ENV);

    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED', stepId: 'only' });
    expect(view.steps[0]).toMatchObject({
      status: 'FAILED',
      attempts: 0,
      error: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
    });
    expect(scenario.downstream.requests({ runId })).toEqual([]);
    expect(await readOutboxRows(scenario.db, runId)).toEqual([
      expect.objectContaining({ status: 'DEAD', deliveries: MAX_DELIVERIES + 1 }),
    ]);
  });

  it('fails the run with COMPENSATION_FAILED when a compensation is parked', async () => {
    await scenario.register(
      buildWorkflow('poison-undo', scenario.downstream.url, [
        { id: 'book', compensated: true, timeoutMs: HOLD_TIMEOUT_MS },
        { id: 'pay' },
      ]),
    );
    scenario.downstream.setScript((r) => {
      if (r.stepId === 'pay') return { status: 422, body: { error: 'card declined' } };
      if (r.stepId === 'book' && r.kind === 'compensation') return { type: 'hold' };
      return { status: 200 };
    });
    const first = await scenario.startEngine('poison-undo-1', ENV);
    const { runId } = await startRun(scenario.db, { workflowName: 'poison-undo', input: {}, correlationId: 'p-3' });
    await scenario.downstream.waitForRequest((r) => r.key === `${runId}:book:compensate`);
    expect(await readLiveItem(scenario.db, runId)).toMatchObject({ stepIndex: 0, kind: 'compensation', deliveries: 1 });
    await first.process.kill('SIGKILL');
    // the compensation's workers keep dying: skip the remaining deaths and the lease wait
    await sql`update outbox set deliveries = ${MAX_DELIVERIES}, due_at = now() where run_id = ${runId}`.execute(
      scenario.db,
    );
    await scenario.startEngine('poison-undo-2', ENV);

    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'COMPENSATION_FAILED', stepId: 'book' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['book', 'SUCCEEDED', 'FAILED'],
      ['pay', 'FAILED', 'NONE'],
    ]);
    expect(requestsOf(runId, 'book', 'compensation')).toHaveLength(1);
    expect(await readOutboxRows(scenario.db, runId)).toEqual([
      expect.objectContaining({
        stepIndex: 0,
        kind: 'compensation',
        status: 'DEAD',
        lastError: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
      }),
    ]);
  });

  it('the parked runs keep every invariant', async () => {
    const report = await scenario.check({ maxRedeliveries: MAX_DELIVERIES + 1 });
    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.byStatus).toEqual({ COMPENSATED: 1, FAILED: 2 });
  });
});
