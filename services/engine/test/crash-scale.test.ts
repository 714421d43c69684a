import { registerDefinition, startRun } from '@sagaflow/db';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinition } from './processes/definitions.js';
import { countLogMessages, killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { countRunsByStatus } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

const RUNS = 500;
const STEPS = ['reserve', 'charge', 'notify'];

/** Two engine processes share one outbox: every step is delivered exactly once and both engines work. */
describe('two engines, 500 runs', () => {
  let tdb: TestDatabase;
  let downstream: DeduplicatingDownstream;
  let engines: EngineProcess[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    downstream = await startDeduplicatingDownstream();
    downstream.setScript((r) => ({ status: 200, body: { path: r.path } }));
    await registerDefinition(
      tdb.db,
      buildDefinition(
        'scale',
        downstream.url,
        STEPS.map((id) => ({ id })),
      ),
    );
    engines = await Promise.all(['scale-a', 'scale-b'].map((id) => spawnEngine({ databaseUrl: tdb.url, id })));
  });
  afterAll(async () => {
    await killEngines(engines);
    await downstream?.close();
    await tdb?.drop();
  });

  it(
    'completes every run with each step delivered once, split between both engines',
    { timeout: 120_000 },
    async () => {
      const started = Date.now();
      const runIds: string[] = [];
      for (let batch = 0; batch < RUNS; batch += 50) {
        const chunk = Array.from({ length: Math.min(50, RUNS - batch) }, (_, i) =>
          startRun(tdb.db, { workflowName: 'scale', input: { n: batch + i }, correlationId: `scale-${batch + i}` }),
        );
        runIds.push(...(await Promise.all(chunk)).map((r) => r.runId));
      }

      await waitFor(async () => (await countRunsByStatus(tdb.db, runIds))['COMPLETED'] === RUNS, {
        timeoutMs: 90_000,
        intervalMs: 250,
        description: `all ${RUNS} runs to complete`,
      });
      const elapsedMs = Date.now() - started;

      const perKey = new Map<string, number>();
      for (const r of downstream.requests()) perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1);
      expect(perKey.size).toBe(RUNS * STEPS.length);
      expect([...perKey.values()].every((n) => n === 1)).toBe(true);
      const expectedKeys = runIds.flatMap((runId) => STEPS.map((step) => `${runId}:${step}`)).sort();
      expect([...perKey.keys()].sort()).toEqual(expectedKeys);

      const attempts = await tdb.db
        .selectFrom('step_attempts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(attempts.n)).toBe(RUNS * STEPS.length);
      const outbox = await tdb.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(outbox.n)).toBe(0);

      // each engine logs one "step attempt succeeded" per committed attempt
      const split = await waitFor(
        () => {
          const counts = engines.map((e) => countLogMessages(e.process, 'step attempt succeeded'));
          return counts[0]! + counts[1]! === RUNS * STEPS.length ? counts : undefined;
        },
        { timeoutMs: 5_000, description: 'every success line to be read from the engines' },
      );
      process.stdout.write(
        `[crash-scale] ${RUNS} runs x ${STEPS.length} steps in ${elapsedMs} ms; attempts per engine: ${engines.map((e, i) => `${e.id}=${split[i]}`).join(', ')}\n`,
      );
      expect(split.every((n) => n > 0)).toBe(true);
    },
  );
});
