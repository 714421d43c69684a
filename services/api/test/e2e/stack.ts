import { pino } from 'pino';
import { createTestDatabase } from '@sagaflow/db/testing';
import { startEngine, type RunningEngine } from '@sagaflow/engine';
import { startMocks, type RunningMocks } from '@sagaflow/mocks';
import { createClient, type SagaFlowClient } from '@sagaflow/client';
import { loadConfig } from '../../src/env.js';
import { startServer, type RunningApi } from '../../src/start-server.js';
import { ADMIN_TOKEN } from '../helpers.js';

/** The whole system on loopback: a test database, the three mocks, one engine, a listening API, the SDK. */
export interface Stack {
  testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  mocks: RunningMocks;
  engine: RunningEngine;
  api: RunningApi;
  client: SagaFlowClient;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const testDb = await createTestDatabase();
  const mocks = await startMocks({ ports: { payments: 0, inventory: 0, notifications: 0 } });
  const engine = await startEngine({
    databaseUrl: testDb.url,
    serviceUrls: mocks.urls,
    port: null,
    pollIntervalMs: 100,
    logger: pino({ level: 'silent' }),
  });
  const api = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    }),
  );
  const client = createClient({ baseUrl: api.url, adminToken: ADMIN_TOKEN });
  const stop = async (): Promise<void> => {
    await api.stop();
    await engine.stop();
    await mocks.close();
    await testDb.drop();
  };
  return { testDb, mocks, engine, api, client, stop };
}

export interface Effect {
  service: string;
  idempotencyKey: string | null;
  runId: string | null;
  kind: 'action' | 'compensation';
  at: string;
}

/** Effects a mock service executed (each idempotency key once), from its `GET /__effects`. */
export async function readEffects(serviceUrl: string): Promise<Effect[]> {
  const response = await fetch(`${serviceUrl}/__effects`);
  return ((await response.json()) as { effects: Effect[] }).effects;
}
