import { startRun } from '@sagaflow/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { killAll } from '../src/processes/engine-process.js';
import { countLogMessages } from '../src/processes/log-records.js';
import { readAttempts, readLiveItem, waitForTerminalRun } from '../src/runs/outbox-rows.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

/** SIGTERM: stop claiming, let in-flight attempts finish within the grace period, hand back the rest, exit 0. */
describe('graceful shutdown', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(buildWorkflow('drain', scenario.downstream.url, [{ id: 'first' }, { id: 'second' }]));
  });
  afterEach(async () => {
    await killAll(scenario.engines);
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it('commits an attempt that finishes within the grace period, claims nothing more and exits 0', async () => {
    scenario.downstream.setScript((r) =>
      r.stepId === 'first' && r.nth === 1 ? { type: 'hold' } : { status: 200, body: { step: r.stepId } },
    );
    const engine = await scenario.startEngine('drain-a', { ENGINE_SHUTDOWN_GRACE_MS: '10000' });
    const { runId } = await startRun(scenario.db, { workflowName: 'drain', input: {}, correlationId: 'drain-1' });
    const held = await scenario.downstream.waitForRequest((r) => r.key === `${runId}:first`);

    const exited = engine.process.kill('SIGTERM');
    await engine.process.waitForLine(/"msg":"shutting down"/);
    scenario.downstream.release(held.seq, { status: 200, body: { drained: true } });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(countLogMessages(engine.process, 'step attempt succeeded')).toBe(1);
    expect(countLogMessages(engine.process, 'engine stopped')).toBe(1);

    expect(await readAttempts(scenario.db, runId)).toEqual([[0, 'action', 1, 'SUCCEEDED']]);
    // the next step was enqueued by the commit but not claimed by the stopping engine
    expect(await readLiveItem(scenario.db, runId)).toMatchObject({
      stepIndex: 1,
      kind: 'action',
      leaseOwner: null,
      deliveries: 0,
    });
    expect(scenario.downstream.requests({ key: `${runId}:second` })).toEqual([]);

    await scenario.startEngine('drain-b');
    const view = await waitForTerminalRun(scenario.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]!.output).toEqual({ drained: true });
  });

  it('hands back an attempt that outlives the grace period, so another engine takes it at once', async () => {
    scenario.downstream.setScript((r) =>
      r.stepId === 'first' && r.nth === 1 ? { type: 'hold' } : { status: 200, body: { step: r.stepId, nth: r.nth } },
    );
    // a 30 s lease: without the hand-back, the next engine would wait that long
    const env = { ENGINE_SHUTDOWN_GRACE_MS: '500', ENGINE_LEASE_MS: '30000' };
    const engine = await scenario.startEngine('handback-a', env);
    const { runId } = await startRun(scenario.db, { workflowName: 'drain', input: {}, correlationId: 'drain-2' });
    const held = await scenario.downstream.waitForRequest((r) => r.key === `${runId}:first`);
    expect(await readLiveItem(scenario.db, runId)).toMatchObject({ leaseOwner: 'handback-a', deliveries: 1 });

    const signalledAt = Date.now();
    expect(await engine.process.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(
      engine.process.lines().some((l) => l.includes('"msg":"released unfinished items"') && l.includes('"released":1')),
    ).toBe(true);
    await expect.poll(() => held.abandoned).toBe(true);

    const released = await readLiveItem(scenario.db, runId);
    expect(released).toMatchObject({ stepIndex: 0, leaseOwner: null, leaseToken: null, deliveries: 0 });
    expect(released.dueInMs).toBeLessThanOrEqual(0);
    expect(await readAttempts(scenario.db, runId)).toEqual([]);

    await scenario.startEngine('handback-b', env);
    const startedAt = Date.now();
    const view = await waitForTerminalRun(scenario.db, runId, 10_000);
    // well under the 30 s lease the item would otherwise have waited out
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ attempts: 1, output: { step: 'first', nth: 2 } });
  });

  it('both runs keep every invariant (the handed-back request was sent again once)', async () => {
    const report = await scenario.check({ maxRedeliveries: 1 });
    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.byStatus).toEqual({ COMPLETED: 2 });
    expect(report.redeliveries).toBe(1);
  });
});
