import { pauseRun, resumeRun, startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 20;
const ENV = { ENGINE_LEASE_MS: '3000', ENGINE_CONCURRENCY: '32' };

/**
 * docs/contract.md#held-items under kill -9: runs paused while their attempts are at the service, the engine killed
 * before those attempts commit. Their leases expire while the runs are paused; a new engine must not send them again
 * (the claim holds them), nor anything else of those runs, until resume. After resume every run completes with each
 * effect once, and the history replays to the pause flags.
 */
describe('runs paused with attempts in flight, the engine killed with SIGKILL', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('paused-kill', scenario.downstream.url, [{ id: 'one', compensated: true }, { id: 'two' }]),
    );
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it('sends nothing of a paused run after its engine died, even once the leases expired; resume completes all', async () => {
    // the first step is held at the service: its attempts are in flight when the runs are paused
    scenario.downstream.setScript((r, nth) =>
      r.stepId === 'one' && r.kind === 'action' && nth === 1 ? { type: 'hold' } : { status: 200, body: { ok: true } },
    );
    const engineA = await scenario.startEngine('pause-a', ENV);
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { runId } = await startRun(scenario.db, {
        workflowName: 'paused-kill',
        input: { i },
        correlationId: `p-${i}`,
      });
      runIds.push(runId);
    }
    await waitFor(() => scenario.downstream.inFlight().length === RUNS, {
      timeoutMs: 20_000,
      description: 'every first attempt at the service',
    });

    for (const runId of runIds)
      expect(await pauseRun(scenario.db, runId, { reason: 'fault' })).toMatchObject({ applied: true, paused: true });
    const pausedAt = Date.now();
    await engineA.process.kill('SIGKILL');
    // the service finishes the attempts nobody waits for any more (their effects apply, the answers are lost)
    await waitFor(() => scenario.downstream.inFlight().every((r) => r.abandoned), {
      timeoutMs: 10_000,
      description: 'the dead engine to drop its requests',
    });
    for (const r of scenario.downstream.inFlight())
      scenario.downstream.release(r.seq, { status: 200, body: { ok: 1 } });

    await scenario.startEngine('pause-b', ENV);
    // every lease expires and the new engine's claims hold the items instead of sending them again
    await waitFor(
      async () => {
        const { rows } = await sql<{ held: number }>`
          select count(*)::int as held from outbox where status = 'READY' and held_due_at is not null`.execute(
          scenario.db,
        );
        return rows[0]?.held === RUNS;
      },
      { timeoutMs: 20_000, description: 'every live item held by the claim' },
    );
    const sentWhilePaused = scenario.downstream.requests().filter((r) => r.arrivedAt > pausedAt);
    expect(sentWhilePaused).toEqual([]);
    const { rows: states } = await sql<{ status: string; paused: boolean; n: number }>`
      select status, paused_at is not null as paused, count(*)::int as n from workflow_runs group by 1, 2`.execute(
      scenario.db,
    );
    expect(states).toEqual([{ status: 'RUNNING', paused: true, n: RUNS }]);

    for (const runId of runIds) expect(await resumeRun(scenario.db, runId)).toMatchObject({ applied: true });
    const drained = await waitUntilAllTerminal(scenario.db, { since: Date.now(), timeoutMs: 30_000 });
    expect(drained).toMatchObject({ active: 0, total: RUNS });
    const { rows: completed } = await sql<{ status: string; n: number }>`
      select status, count(*)::int as n from workflow_runs group by 1`.execute(scenario.db);
    expect(completed).toEqual([{ status: 'COMPLETED', n: RUNS }]);

    // each first step was sent twice (the dead engine's delivery and the one after resume): one effect per key, and
    // exactly one redelivery per run, the one the kill explains
    const report = await scenario.check({ maxRedeliveries: RUNS });
    expect(report.violations, formatViolations(report)).toEqual([]);
    const { rows: unpaused } = await sql<{ n: number }>`
      select count(*)::int as n from workflow_runs where paused_at is not null`.execute(scenario.db);
    expect(unpaused).toEqual([{ n: 0 }]);
  });
});
