/**
 * The engine's defaults, written once: env.ts gives them to unset ENGINE_* variables and startEngine to options a
 * caller leaves out (tests, the bench, embedding).
 */
export const ENGINE_DEFAULTS = {
  // loopback unless told otherwise; containers set ENGINE_HOST=0.0.0.0 (Dockerfile, docker-compose.yml)
  host: '127.0.0.1',
  port: 3100,
  concurrency: 200,
  batchSize: 64,
  /** 64 MiB: 200 typical items use a few MiB; at ~14 MiB an item (1 MiB input and context, 50 × 256 KiB outputs) about 4. */
  maxInflightBytes: 64 * 1024 * 1024,
  leaseMs: 30_000,
  pollIntervalMs: 1_000,
  maxDeliveries: 5,
  shutdownGraceMs: 10_000,
  poolSize: 10,
  /** bulk-operation batches processed at once (each holds a pooled connection for its transaction) */
  operationSlots: 2,
  /** a schedule's fire time at most this late still fires; older ones were missed while no engine ran */
  scheduleCatchUpMs: 10_000,
  /** the longest the schedule loop sleeps without looking (NOTIFY and the next fire time wake it sooner) */
  schedulePollMs: 10_000,
} as const;
