import { registerDefinition, type Db } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import type { WorkflowDefinition } from '@sagaflow/definitions';
import { startFakeDownstream, type FakeDownstream } from '@sagaflow/testkit';
import { readEvidence } from './downstream/evidence.js';
import { checkInvariants } from './invariants/check-invariants.js';
import type { InvariantReport } from './invariants/types.js';
import { spawnApi, type ApiProcess } from './processes/api-process.js';
import { spawnEngine, type EngineProcess } from './processes/engine-process.js';

export const ADMIN_TOKEN = 'fault-tests-admin-token-0123456789';

/** Where a scenario's rows live: a fresh test database, or a database on a Postgres the scenario owns. */
export interface ScenarioDatabase {
  url: string;
  db: Db;
  close(): Promise<void>;
}

/**
 * One scenario's world: its own database, the fake downstream (@sagaflow/testkit), and the child processes it spawned (all of
 * them SIGKILLed by close(), whatever state the test left them in).
 */
export interface Scenario {
  readonly databaseUrl: string;
  readonly db: Db;
  readonly downstream: FakeDownstream;
  /** every engine spawned so far, dead or alive */
  readonly engines: EngineProcess[];
  register(definition: WorkflowDefinition): Promise<void>;
  startEngine(id: string, env?: Record<string, string>): Promise<EngineProcess>;
  startApi(env?: Record<string, string>): Promise<ApiProcess>;
  /** every invariant over the database and the downstream's log */
  check(options: { maxRedeliveries: number; promisedRunIds?: readonly string[] }): Promise<InvariantReport>;
  close(): Promise<void>;
}

async function openTestDatabase(): Promise<ScenarioDatabase> {
  const tdb = await createTestDatabase();
  return { url: tdb.url, db: tdb.db, close: () => tdb.drop() };
}

export interface ScenarioOptions {
  /** how long a spawned API or engine may take to start (default 30 s; the HA suite allows more on a loaded machine) */
  startupTimeoutMs?: number;
}

export async function createScenario(database?: ScenarioDatabase, options: ScenarioOptions = {}): Promise<Scenario> {
  const startup = options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs };
  const store = database ?? (await openTestDatabase());
  const downstream = await startFakeDownstream();
  const engines: EngineProcess[] = [];
  const apis: ApiProcess[] = [];
  return {
    databaseUrl: store.url,
    db: store.db,
    downstream,
    engines,
    register: async (definition) => {
      await registerDefinition(store.db, definition);
    },
    startEngine: async (id, env) => {
      const engine = await spawnEngine({ databaseUrl: store.url, id, ...startup, ...(env ? { env } : {}) });
      engines.push(engine);
      return engine;
    },
    startApi: async (env) => {
      const api = await spawnApi({
        databaseUrl: store.url,
        adminToken: ADMIN_TOKEN,
        name: `api-${apis.length + 1}`,
        ...startup,
        ...(env ? { env } : {}),
      });
      apis.push(api);
      return api;
    },
    check: (options) => checkInvariants(store.db, { ...readEvidence(downstream), ...options }),
    close: async () => {
      await Promise.all([...engines, ...apis].map((p) => p.process.kill('SIGKILL')));
      await downstream.close();
      await store.close();
    },
  };
}
