import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { getRun, type RunView } from '@sagaflow/db';
import { isTerminal } from '@sagaflow/saga';
import { createTestDatabase } from '@sagaflow/db/testing';
import { startEngine, type RunningEngine, type StartEngineOptions } from '@sagaflow/engine';
import { startFakeDownstream, waitFor, type FakeDownstream, type Script } from '@sagaflow/testkit';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, testConfig } from '../helpers.js';

/**
 * The observability tests' world, all in this process: a fresh database, the API (buildApp, requests through
 * app.inject), an engine (startEngine, /metrics on an ephemeral port) and the testkit's fake downstream.
 */
export interface ObservedWorld {
  db: Awaited<ReturnType<typeof createTestDatabase>>['db'];
  app: FastifyInstance;
  engine: RunningEngine | undefined;
  downstream: FakeDownstream;
  /** Registers a saga whose step `<id>` calls `<downstream>/<name>/<id>` and its compensation `.../<id>/undo`. */
  defineSaga(name: string, steps: SagaStep[]): Promise<void>;
  /** POST /v1/workflows/<name>/start; returns the runId. */
  start(name: string, input: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  waitTerminal(runId: string): Promise<RunView>;
  scrapeApi(): Promise<string>;
  scrapeEngine(): Promise<string>;
  close(): Promise<void>;
}

export interface SagaStep {
  id: string;
  compensation?: boolean;
  retry?: { maxAttempts: number };
}

export interface WorldOptions {
  /** how the downstream answers (`nth` counts requests with the same idempotency key) */
  script: Script;
  apiLogger?: Logger;
  engineLogger?: Logger;
  /** false: no engine (the outbox fills up) */
  engine?: Partial<StartEngineOptions> | false;
}

/** Retries within milliseconds, no jitter: runs finish fast and the attempt counts are exact. */
const FAST = { initialIntervalMs: 10, backoffCoefficient: 1, jitter: 'none' } as const;

export async function startObservedWorld(options: WorldOptions): Promise<ObservedWorld> {
  const testDb = await createTestDatabase();
  const downstream = await startFakeDownstream();
  downstream.setScript(options.script);
  const app = buildApp({
    db: testDb.db,
    config: testConfig(),
    ...(options.apiLogger ? { logger: options.apiLogger } : {}),
  });
  const silent = pino({ level: 'silent' });
  const engine =
    options.engine === false
      ? undefined
      : await startEngine({
          databaseUrl: testDb.url,
          serviceUrls: {},
          port: 0,
          host: '127.0.0.1',
          pollIntervalMs: 50,
          poolSize: 4,
          logger: options.engineLogger ?? silent,
          ...options.engine,
        });

  const world: ObservedWorld = {
    db: testDb.db,
    app,
    engine,
    downstream,
    async defineSaga(name, steps) {
      const definition = {
        name,
        version: '1.0.0',
        steps: steps.map((step) => ({
          id: step.id,
          request: { method: 'POST', url: `${downstream.url}/${name}/${step.id}` },
          retry: { ...FAST, maxAttempts: step.retry?.maxAttempts ?? 3 },
          ...(step.compensation
            ? {
                compensation: {
                  id: `${step.id}-undo`,
                  request: { method: 'POST', url: `${downstream.url}/${name}/${step.id}/undo` },
                  retry: { ...FAST, maxAttempts: 3 },
                },
              }
            : {}),
        })),
      };
      const response = await app.inject({
        method: 'POST',
        url: '/v1/admin/workflows',
        headers: { 'x-admin-token': ADMIN_TOKEN },
        payload: definition,
      });
      if (response.statusCode !== 201) throw new Error(`register ${name}: ${response.statusCode} ${response.body}`);
    },
    async start(name, input, headers = {}) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/workflows/${name}/start`,
        headers,
        payload: { input },
      });
      if (response.statusCode !== 202) throw new Error(`start ${name}: ${response.statusCode} ${response.body}`);
      return (JSON.parse(response.body) as { runId: string }).runId;
    },
    waitTerminal(runId) {
      return waitFor(
        async () => {
          const view = await getRun(testDb.db, runId);
          return view && isTerminal(view.run.status) ? view : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 25, description: `run ${runId} to end` },
      );
    },
    async scrapeApi() {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      return response.body;
    },
    async scrapeEngine() {
      if (!engine) throw new Error('no engine in this world');
      const response = await fetch(`http://127.0.0.1:${engine.port}/metrics`);
      return response.text();
    },
    async close() {
      await engine?.stop();
      await app.close();
      await downstream.close();
      await testDb.drop();
    },
  };
  return world;
}
