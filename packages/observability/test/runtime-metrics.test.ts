import { afterEach, describe, expect, it } from 'vitest';
import { createDb, createPool } from '@sagaflow/db';
import { Registry } from 'prom-client';
import { registerRuntimeMetrics } from '../src/runtime-metrics.js';

/** event_loop_delay_seconds and db_pool_wait_seconds on a real pool (max 1 connection) and the real event loop. */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(max = 1) {
  const pool = createPool(process.env['DATABASE_URL']!, { max, applicationName: 'sagaflow-runtime-metrics-test' });
  const registry = new Registry();
  const stop = registerRuntimeMetrics(registry, createDb(pool));
  cleanups.push(() => pool.end(), stop);
  return { pool, registry, stop };
}

/** The histogram's samples: `<name>_count`, `_sum` and each bucket by its `le`. */
async function read(registry: Registry, name: string) {
  const metric = await registry.getSingleMetric(name)!.get();
  const values = metric.values as { metricName?: string; labels: { le?: string | number }; value: number }[];
  const value = (suffix: string, le?: string) =>
    values.find((v) => v.metricName === `${name}${suffix}` && (le === undefined || String(v.labels.le) === le))!.value;
  return { count: value('_count'), sum: value('_sum'), bucket: (le: string) => value('_bucket', le) };
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, description: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('db_pool_wait_seconds', () => {
  it('observes every checkout: an idle connection at once, a query queued behind a held one for as long as it was held', async () => {
    const { pool, registry } = await setup(1);
    await pool.query('select 1'); // opens the pool's one connection (a checkout: its connect time)
    expect((await read(registry, 'db_pool_wait_seconds')).count).toBe(1);

    const held = await pool.connect(); // the idle connection: no wait to speak of
    const before = await read(registry, 'db_pool_wait_seconds');
    expect(before.count).toBe(2);
    const queued = pool.query('select 2 as n'); // must wait for `held`
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await read(registry, 'db_pool_wait_seconds')).count).toBe(2); // still waiting: not observed yet
    held.release();
    expect((await queued).rows).toEqual([{ n: 2 }]);

    const after = await read(registry, 'db_pool_wait_seconds');
    expect(after.count).toBe(3);
    expect(after.bucket('0.25')).toBe(before.bucket('0.25')); // the queued checkout waited ≥ 300 ms
    expect(after.bucket('+Inf')).toBe(3);
    expect(after.sum - before.sum).toBeGreaterThanOrEqual(0.29);
  });

  it('a checkout that times out is observed too; a stopped observer observes nothing more', async () => {
    const pool = createPool(process.env['DATABASE_URL']!, { max: 1, connectionTimeoutMillis: 200 });
    const registry = new Registry();
    const stop = registerRuntimeMetrics(registry, createDb(pool));
    cleanups.push(() => pool.end(), stop);
    const held = await pool.connect();
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    const timedOut = await read(registry, 'db_pool_wait_seconds');
    expect(timedOut.count).toBe(2);
    expect(timedOut.count - timedOut.bucket('0.1')).toBeGreaterThanOrEqual(1); // the one that waited 200 ms
    expect(timedOut.sum).toBeGreaterThanOrEqual(0.19);
    held.release();
    stop();
    await pool.query('select 1');
    expect((await read(registry, 'db_pool_wait_seconds')).count).toBe(2);
  });

  it('two registries on one pool each count every checkout once', async () => {
    const { pool, registry } = await setup(2);
    const other = new Registry();
    cleanups.push(registerRuntimeMetrics(other, createDb(pool)));
    await Promise.all([pool.query('select 1'), pool.query('select 2')]);
    expect((await read(registry, 'db_pool_wait_seconds')).count).toBe(2);
    expect((await read(other, 'db_pool_wait_seconds')).count).toBe(2);
  });
});

describe('event_loop_delay_seconds', () => {
  it('a 300 ms synchronous block is one observation over 0.25 s', async () => {
    const { registry } = await setup();
    // a few probe samples first
    const before = await until(
      () => read(registry, 'event_loop_delay_seconds'),
      (h) => h.count >= 3,
      'the probe to sample',
    );
    blockEventLoop(300);
    const after = await until(
      () => read(registry, 'event_loop_delay_seconds'),
      (h) => h.count > before.count,
      'the probe to run after the block',
    );
    const late = (h: typeof before) => h.count - h.bucket('0.25');
    expect(late(after) - late(before)).toBe(1);
    expect(after.sum - before.sum).toBeGreaterThanOrEqual(0.28);
  });

  it('registering twice on one registry keeps one histogram; stopping ends the samples', async () => {
    const { registry, stop } = await setup();
    registerRuntimeMetrics(registry, createDb(createPool(process.env['DATABASE_URL']!)))(); // no-op: already there
    await until(
      () => read(registry, 'event_loop_delay_seconds'),
      (h) => h.count >= 2,
      'the probe to sample',
    );
    stop();
    const stopped = (await read(registry, 'event_loop_delay_seconds')).count;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await read(registry, 'event_loop_delay_seconds')).count).toBe(stopped);
  });
});
