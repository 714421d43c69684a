import { createClient, type SagaFlowClient } from '@sagaflow/client';
import { loadConfig, startServer, type RunningApi } from '@sagaflow/api';
import { createTestDatabase } from '@sagaflow/db/testing';
import { createLogger, startEngine, type RunningEngine } from '@sagaflow/engine';
import { startFakeDownstream, type FakeDownstream } from '@sagaflow/testkit';

export const ADMIN_TOKEN = 'cli-test-admin-token-0123456789';
/** The keys of the second API (`keyedApi`), which has SAGAFLOW_API_KEYS set (SPEC §14) and ADMIN_TOKEN too. */
export const API_KEYS = { client: 'cli-test-client-key-0123456789', admin: 'cli-test-admin-key-0123456789' };

/** API + engine in this process on a fresh database, the fake downstream on loopback, and an SDK client. */
export interface Stack {
  api: RunningApi;
  /** Another API on the same database that requires an API key (or the admin token) on every /v1 call. */
  keyedApi: RunningApi;
  engine: RunningEngine;
  downstream: FakeDownstream;
  client: SagaFlowClient;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const testDb = await createTestDatabase();
  const downstream = await startFakeDownstream();
  const engine = await startEngine({
    databaseUrl: testDb.url,
    serviceUrls: {},
    port: null,
    pollIntervalMs: 50,
    logger: createLogger({ name: 'engine', level: 'silent', sensitive: false }),
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
  const keyedApi = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      PORT: '0',
      HOST: '127.0.0.1',
      SAGAFLOW_API_KEYS: `client:${API_KEYS.client},admin:${API_KEYS.admin}`,
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    }),
  );
  const client = createClient({ baseUrl: api.url, adminToken: ADMIN_TOKEN });
  const stop = async (): Promise<void> => {
    await keyedApi.stop();
    await api.stop();
    await engine.stop();
    await downstream.close();
    await testDb.drop();
  };
  return { api, keyedApi, engine, downstream, client, stop };
}
