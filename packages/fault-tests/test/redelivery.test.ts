import { startRun } from '@sagaflow/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { killAll } from '../src/processes/engine-process.js';
import { readAttempts, readLiveItem, waitForTerminalRun } from '../src/runs/outbox-rows.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const ENV = { ENGINE_LEASE_MS: '1500' };

/**
 * One kill -9, step by step: the engine dies while its request is at the service; the lease expires, another engine
 * sends the same request again (same key, same attempt number, the item's delivery count up, a new lease token),
 * and the service's dedup store answers it with the first delivery's result. Then the same for a compensation.
 */
describe('an engine killed with SIGKILL mid-attempt', () => {
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

  it('redelivers the step with the same key and attempt number, and the run completes with one effect', async () => {
    await scenario.register(
      buildWorkflow('crash-forward', scenario.downstream.url, [{ id: 'one' }, { id: 'two' }, { id: 'three' }]),
    );
    scenario.downstream.setScript((r) =>
      r.stepId === 'two' ? { type: 'hold' } : { status: 200, body: { step: r.stepId } },
    );
    const engineA = await scenario.startEngine('engine-a', ENV);
    const { runId } = await startRun(scenario.db, {
      workflowName: 'crash-forward',
      input: {},
      correlationId: 'crash-1',
    });

    const first = await scenario.downstream.waitForRequest((r) => r.runId === runId && r.stepId === 'two');
    const leased = await readLiveItem(scenario.db, runId);
    expect(leased).toMatchObject({ stepIndex: 1, leaseOwner: 'engine-a', deliveries: 1 });
    expect((await engineA.process.kill('SIGKILL')).signal).toBe('SIGKILL');
    await expect.poll(() => first.abandoned).toBe(true);
    // the service finishes its work, but the answer has nowhere to go
    scenario.downstream.release(first.seq, { status: 200, body: { step: 'two', delivery: 1 } });

    await scenario.startEngine('engine-b', ENV);
    const second = await scenario.downstream.waitForRequest((r) => r.stepId === 'two' && r.seq > first.seq);
    const redelivered = await readLiveItem(scenario.db, runId);
    expect(redelivered).toMatchObject({ id: leased.id, stepIndex: 1, leaseOwner: 'engine-b', deliveries: 2 });
    expect(redelivered.leaseToken).not.toBe(leased.leaseToken);
    scenario.downstream.release(second.seq, { status: 200, body: { step: 'two', delivery: 2 } });

    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    // the dedup store answered the redelivery with the first delivery's result
    expect(view.steps[1]!.output).toEqual({ step: 'two', delivery: 1 });
    expect([first, second].map((r) => [r.key, r.attempt, r.appliedEffect, r.replayed])).toEqual([
      [`${runId}:two`, 1, true, false],
      [`${runId}:two`, 1, false, true],
    ]);
    const attempts = await readAttempts(scenario.db, runId);
    expect(attempts.filter(([stepIndex]) => stepIndex === 1)).toEqual([[1, 'action', 1, 'SUCCEEDED']]);
    expect(attempts).toHaveLength(3);
  });

  it('redelivers a compensation whose engine died, and the run ends COMPENSATED with each effect once', async () => {
    await scenario.register(
      buildWorkflow('crash-unwind', scenario.downstream.url, [
        { id: 'reserve', compensated: true },
        { id: 'charge', compensated: true },
        { id: 'ship' },
      ]),
    );
    let heldOnce = false;
    scenario.downstream.setScript((r) => {
      if (r.stepId === 'ship') return { status: 400, body: { error: 'address rejected' } };
      if (r.stepId === 'charge' && r.kind === 'compensation' && !heldOnce) {
        heldOnce = true;
        return { type: 'hold' };
      }
      return { status: 200, body: { done: `${r.stepId}/${r.kind}` } };
    });
    const engineA = await scenario.startEngine('engine-c', ENV);
    const { runId } = await startRun(scenario.db, {
      workflowName: 'crash-unwind',
      input: {},
      correlationId: 'crash-2',
    });

    const first = await scenario.downstream.waitForRequest((r) => r.runId === runId && r.kind === 'compensation');
    expect(await readLiveItem(scenario.db, runId)).toMatchObject({
      stepIndex: 1,
      kind: 'compensation',
      leaseOwner: 'engine-c',
      deliveries: 1,
    });
    await engineA.process.kill('SIGKILL');
    await expect.poll(() => first.abandoned).toBe(true);
    scenario.downstream.release(first.seq, { status: 200, body: { refunded: true } });

    await scenario.startEngine('engine-d', ENV);
    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'ship' });
    expect(view.steps.map((s) => [s.status, s.compensationStatus])).toEqual([
      ['SUCCEEDED', 'COMPENSATED'],
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'NONE'],
    ]);
    const compensations = scenario.downstream.requests({ runId }).filter((r) => r.kind === 'compensation');
    expect(compensations.map((r) => [r.key, r.replayed])).toEqual([
      [`${runId}:charge:compensate`, false],
      [`${runId}:charge:compensate`, true],
      [`${runId}:reserve:compensate`, false],
    ]);
    const undone = (await readAttempts(scenario.db, runId)).filter(([, kind]) => kind === 'compensation');
    expect(undone).toEqual([
      [1, 'compensation', 1, 'SUCCEEDED'],
      [0, 'compensation', 1, 'SUCCEEDED'],
    ]);
  });

  it('both runs keep every invariant (one redelivery each)', async () => {
    const report = await scenario.check({ maxRedeliveries: 2 });
    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.byStatus).toEqual({ COMPLETED: 1, COMPENSATED: 1 });
    expect(report.redeliveries).toBe(2);
    expect(report.duplicatesPrevented).toBe(2);
  });
});
