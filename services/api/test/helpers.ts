import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Db } from '@sagaflow/db';
import { sql } from 'kysely';
import { buildApp, type AppDeps } from '../src/app.js';
import { loadConfig } from '../src/env.js';

/** Shared setup of the route-level tests: a real database, `app.inject`, the demo definitions. */

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export function testConfig(overrides: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ADMIN_RATE_LIMIT_MAX: '1000',
    ...overrides,
  });
}

export function buildTestApp(db: Db, deps: Partial<AppDeps> = {}, env: Record<string, string> = {}): FastifyInstance {
  return buildApp({ db, config: testConfig(env), ...deps });
}

/** A definition that is valid and unique to the calling test. */
export function makeDefinition(overrides: { name?: string; version?: string; description?: string } = {}) {
  return {
    name: overrides.name ?? `wf-${randomUUID().slice(0, 8)}`,
    version: overrides.version ?? '1.0.0',
    ...(overrides.description ? { description: overrides.description } : {}),
    steps: [
      {
        id: 'charge-payment',
        request: { method: 'POST', service: 'payments', path: '/charges' },
        compensation: { id: 'refund-payment', request: { method: 'POST', service: 'payments', path: '/refunds' } },
      },
      { id: 'send-email', request: { method: 'POST', service: 'notifications', path: '/emails' } },
    ],
  };
}

export async function registerDefinition(app: FastifyInstance, definition: object): Promise<void> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/admin/workflows',
    headers: { 'x-admin-token': ADMIN_TOKEN },
    payload: definition,
  });
  if (response.statusCode !== 201 && response.statusCode !== 200) {
    throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  }
}

export async function startRun(
  app: FastifyInstance,
  name: string,
  payload: object = { input: { orderId: 'o-1' } },
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/workflows/${name}/start`, headers, payload });
}

export function json<T = Record<string, unknown>>(response: { body: string }): T {
  return JSON.parse(response.body) as T;
}

/**
 * The database's connections listening for run history (RunEventsHub's listener): their last statement is the LISTEN
 * or the refresh of their event_listeners row, which runs on the same connection (not the asking connection, whose
 * own statement names both).
 */
export const HISTORY_LISTENER = sql<boolean>`(pid <> pg_backend_pid()
  and (query ilike 'LISTEN sagaflow_run_events%' or query ilike '%insert into event_listeners%'))`;

/** How many connections listen for run history now. */
export async function historyListeners(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity where datname = current_database() and ${HISTORY_LISTENER}`.execute(
    db,
  );
  return rows[0]!.n;
}
