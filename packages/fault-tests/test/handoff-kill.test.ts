import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { killAll } from '../src/processes/engine-process.js';
import { countLogMessages } from '../src/processes/log-records.js';
import { waitForTerminalRun } from '../src/runs/outbox-rows.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

/** A 30 s lease: a run handed to the dead engine would wait that long before another engine could claim it. */
const ENV = { ENGINE_LEASE_MS: '30000' };

/** Waits until the engine `id` is in the registry with free slots: starts may hand it runs from then on. */
async function waitForRegistration(scenario: Scenario, id: string): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await sql<{ id: string }>`select id from engines where free_slots > 0`.execute(scenario.db);
      return rows.some((r) => r.id === id);
    },
    { timeoutMs: 10_000, description: `engine ${id} in the registry` },
  );
}

/**
 * Starts hand a run's first step to a live engine (docs/architecture.md#the-first-step-handed-to-an-engine). An engine
 * killed with SIGKILL keeps a fresh row in `engines` for up to 3 s, but its LISTEN connection closes with the process,
 * and a start hands nothing to an engine whose listening backend is gone.
 */
describe('starts right after an engine is killed', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(buildWorkflow('handed', scenario.downstream.url, [{ id: 'one' }, { id: 'two' }]));
  });
  afterEach(async () => {
    await killAll(scenario.engines);
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it('are not handed to the dead engine: another engine runs them at once, not after the lease', async () => {
    scenario.downstream.setScript(() => ({ status: 200, body: { ok: true } }));
    const engineA = await scenario.startEngine('handoff-a', ENV);
    await waitForRegistration(scenario, 'handoff-a');
    expect((await engineA.process.kill('SIGKILL')).signal).toBe('SIGKILL');
    // its row is still fresh: only the liveness of its LISTEN backend tells the starts it is gone
    const { rows } = await sql<{ fresh: boolean }>`
      select expires_at > now() as fresh from engines where id = 'handoff-a'`.execute(scenario.db);
    expect(rows[0]?.fresh).toBe(true);

    const runIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      runIds.push(
        (await startRun(scenario.db, { workflowName: 'handed', input: { i }, correlationId: `k-${i}` })).runId,
      );
    }
    const leasedToDead = await sql<{ n: string }>`
      select count(*) as n from outbox where lease_owner = 'handoff-a'`.execute(scenario.db);
    expect(Number(leasedToDead.rows[0]!.n)).toBe(0);

    await scenario.startEngine('handoff-b', ENV);
    const startedAt = Date.now();
    for (const runId of runIds)
      expect((await waitForTerminalRun(scenario.db, runId, 10_000)).run.status).toBe('COMPLETED');
    // well under the 30 s lease
    expect(Date.now() - startedAt).toBeLessThan(10_000);

    const report = await scenario.check({ maxRedeliveries: 0 });
    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.byStatus).toEqual({ COMPLETED: 5 });
  });
  it('are handed to a stalled engine only until its row expires, then to the live ones', async () => {
    scenario.downstream.setScript(() => ({ status: 200, body: { ok: true } }));
    const stalled = await scenario.startEngine('handoff-stalled', ENV);
    await waitForRegistration(scenario, 'handoff-stalled');
    await scenario.startEngine('handoff-live', ENV);
    process.kill(stalled.process.pid, 'SIGSTOP');
    try {
      // its listening backend is alive: only its row's expiry (3 s without a refresh) stops the starts
      await waitFor(
        async () => {
          const { rows } = await sql<{ expired: boolean }>`
            select expires_at <= now() as expired from engines where id = 'handoff-stalled'`.execute(scenario.db);
          return rows[0]?.expired ?? true;
        },
        { timeoutMs: 10_000, description: 'the stalled engine row to expire' },
      );
      const runIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { runId } = await startRun(scenario.db, {
          workflowName: 'handed',
          input: { i },
          correlationId: `s-${i}`,
        });
        runIds.push(runId);
      }
      const startedAt = Date.now();
      for (const runId of runIds) {
        expect((await waitForTerminalRun(scenario.db, runId, 10_000)).run.status).toBe('COMPLETED');
      }
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      // two steps each, each sent once: nothing waited out a lease and was sent again
      const attempts = await sql<{ n: string }>`
        select count(*) as n from step_attempts a join workflow_runs r on r.id = a.run_id
         where r.correlation_id like 's-%'`.execute(scenario.db);
      expect(Number(attempts.rows[0]!.n)).toBe(10);
    } finally {
      process.kill(stalled.process.pid, 'SIGCONT');
    }
  });
  it('handed to an engine that then stalls past their lease: another engine runs them, the thawed one sends nothing', async () => {
    scenario.downstream.setScript(() => ({ status: 200, body: { ok: true } }));
    const env = { ENGINE_LEASE_MS: '2000' };
    const late = await scenario.startEngine('handoff-late', env);
    await waitForRegistration(scenario, 'handoff-late');
    process.kill(late.process.pid, 'SIGSTOP');
    let thawed = false;
    try {
      // its row is fresh and its listening backend alive: the starts hand it their runs, and the NOTIFYs wait unread
      const runIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { runId } = await startRun(scenario.db, {
          workflowName: 'handed',
          input: { i },
          correlationId: `l-${i}`,
        });
        runIds.push(runId);
      }
      const leased = await sql<{ n: string }>`
        select count(*) as n from outbox where lease_owner = 'handoff-late'`.execute(scenario.db);
      expect(Number(leased.rows[0]!.n)).toBe(5);
      // their leases run out; another engine claims and finishes them
      await scenario.startEngine('handoff-after', env);
      for (const runId of runIds)
        expect((await waitForTerminalRun(scenario.db, runId, 15_000)).run.status).toBe('COMPLETED');

      // thawed, the stalled engine reads the five handoffs of runs that have ended: it must send none of them
      process.kill(late.process.pid, 'SIGCONT');
      thawed = true;
      const sent = (): number => scenario.downstream.requests().filter((r) => runIds.includes(r.runId ?? '')).length;
      // until it has dropped all five, or sent one of them (what it did before leases were checked before sending)
      await waitFor(
        () => countLogMessages(late.process, 'handed item arrived as its lease ran out') === 5 || sent() > 10,
        {
          timeoutMs: 10_000,
          description: 'the thawed engine to deal with the five late handoffs',
        },
      );
      // two steps each, each sent once, none after its run ended
      expect(sent()).toBe(10);
      expect(countLogMessages(late.process, 'handed item arrived as its lease ran out')).toBe(5);
      const report = await scenario.check({ maxRedeliveries: 0 });
      expect(report.violations, formatViolations(report)).toEqual([]);
    } finally {
      if (!thawed) process.kill(late.process.pid, 'SIGCONT');
    }
  });
});
