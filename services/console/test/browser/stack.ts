import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type SagaFlowClient } from '@sagaflow/client';
import { loadConfig, startServer, type RunningApi } from '@sagaflow/api';
import { createTestDatabase } from '@sagaflow/db/testing';
import { createLogger, startEngine, type RunningEngine } from '@sagaflow/engine';
import { startFakeDownstream, type FakeDownstream } from '@sagaflow/testkit';
import { chromium, type Browser } from 'playwright-core';

export const KEYS = {
  client: 'console-client-key-0123456789',
  operator: 'console-operator-key-0123456789',
  admin: 'console-admin-key-0123456789',
};
const ADMIN_TOKEN = 'console-admin-token-0123456789';
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** What the browser tests run against: API (serving the built console, API keys on) + engine + fake downstream. */
export interface ConsoleStack {
  api: RunningApi;
  engine: RunningEngine;
  downstream: FakeDownstream;
  /** an admin client of the same API */
  client: SagaFlowClient;
  browser: Browser;
  stop(): Promise<void>;
}

/** Debian's chromium (playwright's own browser downloads cannot be reached here): installed when missing. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const script = fileURLToPath(new URL('../../../../scripts/ensure-chromium.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  ensureChromium();
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
      SAGAFLOW_API_KEYS: `client:${KEYS.client},operator:${KEYS.operator},admin:${KEYS.admin}`,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    }),
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const client = createClient({ baseUrl: api.url, apiKey: KEYS.admin });
  return {
    api,
    engine,
    downstream,
    client,
    browser,
    async stop() {
      await browser.close();
      await api.stop();
      await engine.stop();
      await downstream.close();
      await testDb.drop();
    },
  };
}
