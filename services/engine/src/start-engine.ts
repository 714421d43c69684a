import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  createDb,
  createPool,
  DefinitionCatalog,
  handoffChannel,
  OPERATIONS_CHANNEL,
  OUTBOX_CHANNEL,
  SCHEDULES_CHANNEL,
} from '@sagaflow/db';
import type { Logger } from 'pino';
import { DefinitionCache } from './definition-cache.js';
import { Engine, type EngineOptions } from './engine.js';
import { buildEngineHttp } from './http-server.js';
import { createLogger } from '@sagaflow/observability';
import { createEngineMetrics } from './metrics.js';
import { OutboxListener } from './outbox-listener.js';
import { createDownstreamAgent } from './downstream-agent.js';
import { ENGINE_DEFAULTS } from './defaults.js';
import { OperationWorker } from './operation-worker.js';
import { ScheduleLoop } from './schedule-loop.js';

export interface StartEngineOptions extends Partial<Omit<EngineOptions, 'serviceUrls' | 'handoff'>> {
  /** false: register nowhere, take no handed first steps, only claim (ENGINE_HANDOFF); default true */
  handoff?: boolean;
  databaseUrl: string;
  serviceUrls: Record<string, string>;
  /** HTTP port for /health, /ready, /metrics; 0 = ephemeral; null = no HTTP server */
  port?: number | null;
  host?: string;
  poolSize?: number;
  /** bulk-operation batches processed at once; 0 = none */
  operationSlots?: number;
  logger?: Logger;
  /** a schedule's fire time at most this late still fires (docs/contract.md#schedules) */
  scheduleCatchUpMs?: number;
  /** the longest the schedule loop sleeps without looking */
  schedulePollMs?: number;
}

export interface RunningEngine {
  engine: Engine;
  /** the bound HTTP port, when serving */
  port: number | undefined;
  stop(): Promise<void>;
}

/** Starts an engine: pool, LISTEN connection, the loop, and its HTTP server. */
export async function startEngine(opts: StartEngineOptions): Promise<RunningEngine> {
  const logger = opts.logger ?? createLogger({ name: 'sagaflow-engine', level: 'info', sensitive: false });
  const concurrency = opts.concurrency ?? ENGINE_DEFAULTS.concurrency;
  const channel = handoffChannel(randomUUID().replaceAll('-', ''));
  let listenPid = (): number | undefined => undefined;
  const options: EngineOptions = {
    id: opts.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    ...(opts.handoff === false ? {} : { handoff: { channel, listenPid: () => listenPid() } }),
    concurrency,
    batchSize: opts.batchSize ?? ENGINE_DEFAULTS.batchSize,
    leaseMs: opts.leaseMs ?? ENGINE_DEFAULTS.leaseMs,
    pollIntervalMs: opts.pollIntervalMs ?? ENGINE_DEFAULTS.pollIntervalMs,
    shutdownGraceMs: opts.shutdownGraceMs ?? ENGINE_DEFAULTS.shutdownGraceMs,
    maxDeliveries: opts.maxDeliveries ?? ENGINE_DEFAULTS.maxDeliveries,
    maxInflightBytes: opts.maxInflightBytes ?? ENGINE_DEFAULTS.maxInflightBytes,
    serviceUrls: opts.serviceUrls,
    allowedHosts: opts.allowedHosts,
    ...(opts.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
  };
  const pool = createPool(opts.databaseUrl, {
    max: opts.poolSize ?? ENGINE_DEFAULTS.poolSize,
    applicationName: 'sagaflow-engine',
    connectionTimeoutMillis: 2_000,
  });
  const db = createDb(pool);
  const metrics = createEngineMetrics(db);
  const agent = createDownstreamAgent({ connectionsPerOrigin: concurrency, allowedHosts: opts.allowedHosts });
  const log = logger.child({ engineId: options.id });
  const engine = new Engine(db, new DefinitionCache(db), agent, options, log, metrics);
  const operations = new OperationWorker(
    db,
    {
      slots: opts.operationSlots ?? ENGINE_DEFAULTS.operationSlots,
      pollIntervalMs: options.pollIntervalMs,
      maxBatchRuns: 100,
    },
    log,
    metrics,
  );
  const schedules = new ScheduleLoop(
    db,
    new DefinitionCatalog(db),
    {
      catchUpMs: opts.scheduleCatchUpMs ?? ENGINE_DEFAULTS.scheduleCatchUpMs,
      pollMs: opts.schedulePollMs ?? ENGINE_DEFAULTS.schedulePollMs,
    },
    log,
    metrics,
  );
  const listener = new OutboxListener(
    opts.databaseUrl,
    (on, payload) =>
      on === channel
        ? engine.receiveHandoff(payload)
        : on === SCHEDULES_CHANNEL
          ? schedules.notify()
          : on === OPERATIONS_CHANNEL
            ? operations.notify()
            : engine.notify(),
    log,
    opts.handoff === false
      ? [OUTBOX_CHANNEL, SCHEDULES_CHANNEL, OPERATIONS_CHANNEL]
      : [OUTBOX_CHANNEL, SCHEDULES_CHANNEL, OPERATIONS_CHANNEL, channel],
  );
  listenPid = () => listener.backendPid;
  await listener.start().catch((error) => log.warn({ err: error }, 'LISTEN failed; polling until it reconnects'));
  engine.start();
  schedules.start();
  operations.start();

  const http =
    opts.port === null ? undefined : buildEngineHttp({ db, engine, registry: metrics.registry, logger: log });
  let port: number | undefined;
  if (http) {
    await http.listen({ port: opts.port ?? ENGINE_DEFAULTS.port, host: opts.host ?? ENGINE_DEFAULTS.host });
    const address = http.server.address();
    port = typeof address === 'object' && address ? address.port : undefined;
  }
  log.info(
    {
      port,
      concurrency,
      batchSize: options.batchSize,
      leaseMs: options.leaseMs,
      maxInflightBytes: options.maxInflightBytes,
    },
    'engine started',
  );

  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    // all three at once: the engine stops claiming and carrying runs on the moment stop is called. Stopping it only
    // after the schedule loop and the operation worker let an attempt that finished meanwhile carry its run on to the
    // next step (docs/operations.md#stopping-an-engine, test/stop.test.ts)
    await Promise.all([engine.stop(), schedules.stop(), operations.stop()]);
    await listener.stop();
    await http?.close();
    await agent.close();
    await pool.end();
    metrics.stopRuntimeMetrics();
    log.info('engine stopped');
  };
  return {
    engine,
    port,
    // safe to call more than once: later calls wait for the first
    stop: () => (stopped ??= stop()),
  };
}
