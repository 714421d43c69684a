import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, createPool, migrateToLatest, registerDefinition, startRun, type Db } from '@sagaflow/db';
import { createLocalPostgres, findFreePort, type LocalPostgres } from '@sagaflow/local-postgres';
import { waitFor, waitForHttp } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinition } from './processes/definitions.js';
import { killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { countRunsByStatus } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

const RUNS = 30;
const STEPS = ['one', 'two', 'three'];

const readyStatus = async (engine: EngineProcess): Promise<number> => {
  const response = await fetch(`${engine.baseUrl}/ready`, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
};

/** A Postgres restart in the middle of 30 runs: the engine reports not ready, recovers by itself, every run completes. */
describe('Postgres restart mid-run', () => {
  let dataDir: string;
  let postgres: LocalPostgres;
  let db: Db;
  let downstream: DeduplicatingDownstream;
  let engine: EngineProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sagaflow-crash-pg-'));
    // a private server: the machine's shared Postgres is never restarted
    postgres = createLocalPostgres({ dataDir, port: await findFreePort() });
    await postgres.start();
    db = createDb(createPool(postgres.url, { max: 4, applicationName: 'crash-test' }));
    await migrateToLatest(db);
    downstream = await startDeduplicatingDownstream();
    // each step takes 100–300 ms (a slow service; the test waits on conditions, not on these delays)
    downstream.setScript((r) => ({ status: 200, body: { path: r.path }, delayMs: 100 + ((r.seq * 37) % 201) }));
    await registerDefinition(
      db,
      buildDefinition(
        'pg-restart',
        downstream.url,
        STEPS.map((id) => ({ id })),
      ),
    );
  });
  afterAll(async () => {
    if (engine) await killEngines([engine]);
    await downstream?.close();
    await db?.destroy();
    await postgres?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'reports not ready while Postgres is down, recovers by itself and completes every run',
    { timeout: 60_000 },
    async () => {
      engine = await spawnEngine({ databaseUrl: postgres.url, id: 'pg-engine', env: { ENGINE_LEASE_MS: '2000' } });
      expect(await readyStatus(engine)).toBe(200);
      const runIds: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        runIds.push(
          (await startRun(db, { workflowName: 'pg-restart', input: { n: i }, correlationId: `pg-${i}` })).runId,
        );
      }

      await downstream.waitForRequest((r) => r.seq >= RUNS);
      await postgres.stop();
      const answeredBeforeStop = downstream.requests().length;
      expect(answeredBeforeStop).toBeLessThan(RUNS * STEPS.length);
      const live = engine;
      await waitFor(async () => (await readyStatus(live)) === 503, {
        timeoutMs: 10_000,
        description: '/ready to answer 503',
      });

      await postgres.start();
      await waitForHttp(`${engine.baseUrl}/ready`, 20_000);
      await waitFor(async () => (await countRunsByStatus(db, runIds))['COMPLETED'] === RUNS, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `all ${RUNS} runs to complete after the restart`,
      });

      const steps = await db
        .selectFrom('run_steps')
        .select(['run_id', 'status'])
        .where('run_id', 'in', runIds)
        .execute();
      expect(steps).toHaveLength(RUNS * STEPS.length);
      expect(steps.every((s) => s.status === 'SUCCEEDED')).toBe(true);
      expect(await db.selectFrom('outbox').select('id').where('run_id', 'in', runIds).execute()).toEqual([]);
      const attempts = await db
        .selectFrom('step_attempts')
        .select(['run_id', 'step_index', 'outcome'])
        .where('run_id', 'in', runIds)
        .execute();
      expect(new Set(attempts.map((a) => `${a.run_id}/${a.step_index}`)).size).toBe(RUNS * STEPS.length);
      expect(attempts).toHaveLength(RUNS * STEPS.length);

      // at least once at the wire, exactly once in effect; nothing was sent after a run completed
      const effects = downstream.effects();
      expect(effects.size).toBe(RUNS * STEPS.length);
      expect([...effects.values()].every((n) => n === 1)).toBe(true);
      const runs = await db
        .selectFrom('workflow_runs')
        .select(['id', 'completed_at'])
        .where('id', 'in', runIds)
        .execute();
      const completedAt = new Map(runs.map((r) => [r.id, r.completed_at!.getTime()]));
      for (const request of downstream.requests()) {
        const runId = request.key.split(':')[0]!;
        expect(request.arrivedAt).toBeLessThanOrEqual(completedAt.get(runId)!);
      }
    },
  );
});
