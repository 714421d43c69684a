import { Writable } from 'node:stream';
import { getRun, registerDefinition, startRun, type RunStatus, type RunView } from '@sagaflow/db';
import { TERMINAL_RUN_STATUSES } from '@sagaflow/saga';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import {
  parseWorkflowDefinition,
  type RetryPolicyInput,
  type StepDefinition,
  type StepRequest,
  type WorkflowDefinition,
} from '@sagaflow/definitions';
import { startFakeDownstream, waitFor, type FakeDownstream } from '@sagaflow/testkit';
import pino from 'pino';
import { startEngine, type RunningEngine, type StartEngineOptions } from '../../src/index.js';

/**
 * One engine test's world: a fresh migrated database, a scriptable downstream, and (optionally) an in-process
 * engine polling every 50 ms. Sagas are declared compactly and call the downstream at `/<saga>/<step>` (action)
 * and `/<saga>/<step>/undo` (compensation), so several sagas share one downstream without colliding.
 *
 *   const h = await createEngineHarness();
 *   const saga = await h.defineSaga('pay', [{ id: 'a', compensation: true }, { id: 'b' }], { retry: { maxAttempts: 3 } });
 *   h.downstream.script(saga.path('b'), statusesByAttempt(503, 200));
 *   const run = await h.waitTerminal(await saga.start({ orderId: 1 }));
 *   await h.close();
 */

export interface SagaStepSpec {
  id: string;
  /** true: a compensation at `/<saga>/<id>/undo`; an object overrides parts of it */
  compensation?: boolean | { retry?: RetryPolicyInput; timeoutMs?: number; request?: Partial<StepRequest> };
  /** merged over the default `{ method: 'POST', url: <downstream>/<saga>/<id> }` (no body: the envelope is sent) */
  request?: Partial<StepRequest>;
  retry?: RetryPolicyInput;
  timeoutMs?: number;
}

export interface SagaOptions {
  version?: string;
  /** default retry policy of every action (a step's own `retry` wins) */
  retry?: RetryPolicyInput;
  /** default retry policy of every compensation */
  compensationRetry?: RetryPolicyInput;
  /** default per-attempt timeout of actions and compensations */
  timeoutMs?: number;
}

export interface Saga {
  name: string;
  version: string;
  definition: WorkflowDefinition;
  /** downstream path of a step's action */
  path(stepId: string): string;
  /** downstream path of a step's compensation */
  undoPath(stepId: string): string;
  /** starts a run of this saga; returns its id */
  start(input?: Record<string, unknown>, context?: Record<string, unknown>, options?: StartOptions): Promise<string>;
}

export interface StartOptions {
  correlationId?: string;
  /** the W3C traceparent the run was started under (the API stores the caller's) */
  traceParent?: string;
  idempotencyKey?: string;
}

export interface HarnessOptions {
  /** false: no engine is started (start one later with `startEngine`); otherwise overrides for startEngine */
  engine?: false | Partial<StartEngineOptions>;
}

export interface EngineHarness {
  database: TestDatabase;
  db: TestDatabase['db'];
  downstream: FakeDownstream;
  /** the running in-process engine, if any */
  readonly engine: RunningEngine | undefined;
  /** every log line the in-process engines wrote, parsed */
  logs(): Array<Record<string, unknown>>;
  /** Builds a definition from a compact spec (see SagaStepSpec), validates and registers it. */
  defineSaga(name: string, steps: SagaStepSpec[], options?: SagaOptions): Promise<Saga>;
  getRun(runId: string): Promise<RunView>;
  /** Polls until the run is terminal (COMPLETED, COMPENSATED, FAILED, CANCELLED) and returns it. */
  waitTerminal(runId: string, timeoutMs?: number): Promise<RunView>;
  /** Polls until the run has `status`. */
  waitStatus(runId: string, status: RunStatus, timeoutMs?: number): Promise<RunView>;
  /** Starts an in-process engine (pollIntervalMs 50, no HTTP port, logs captured) with these overrides. */
  startEngine(overrides?: Partial<StartEngineOptions>): Promise<RunningEngine>;
  stopEngine(): Promise<void>;
  /** step_attempts rows of a run in commit order */
  attempts(runId: string): Promise<
    Array<{
      step_index: number;
      kind: string;
      attempt_no: number;
      outcome: string;
      http_status: number | null;
      error: Record<string, unknown> | null;
    }>
  >;
  /** outbox rows of a run */
  outbox(runId: string): Promise<
    Array<{
      id: string;
      step_index: number;
      kind: string;
      status: string;
      deliveries: number;
      lease_owner: string | null;
    }>
  >;
  /**
   * Asserts nothing more happens for a terminal run: no READY outbox item, and the downstream's request count for
   * the run stays the same across two direct engine ticks (and until whatever they claimed has finished).
   */
  expectNoMoreWork(runId: string): Promise<void>;
  close(): Promise<void>;
}

function buildRequest(
  downstream: FakeDownstream,
  path: string,
  override: Partial<StepRequest> | undefined,
): StepRequest {
  return { method: 'POST', url: downstream.urlFor(path), ...override } as StepRequest;
}

/** The definition a compact saga spec stands for (pure apart from the downstream's address). */
export function buildSagaDefinition(
  downstream: FakeDownstream,
  name: string,
  steps: SagaStepSpec[],
  options: SagaOptions = {},
): WorkflowDefinition {
  const stepDefinitions: StepDefinition[] = steps.map((spec) => {
    const step: StepDefinition = {
      id: spec.id,
      request: buildRequest(downstream, `/${name}/${spec.id}`, spec.request),
    };
    const retry = spec.retry ?? options.retry;
    const timeoutMs = spec.timeoutMs ?? options.timeoutMs;
    if (retry) step.retry = retry;
    if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
    if (spec.compensation) {
      const c = spec.compensation === true ? {} : spec.compensation;
      const compensationRetry = c.retry ?? options.compensationRetry;
      const compensationTimeout = c.timeoutMs ?? options.timeoutMs;
      step.compensation = {
        id: `${spec.id}-undo`,
        request: buildRequest(downstream, `/${name}/${spec.id}/undo`, c.request),
        ...(compensationRetry ? { retry: compensationRetry } : {}),
        ...(compensationTimeout !== undefined ? { timeoutMs: compensationTimeout } : {}),
      };
    }
    return step;
  });
  const parsed = parseWorkflowDefinition({ name, version: options.version ?? '1.0.0', steps: stepDefinitions });
  if (!parsed.success)
    throw new Error(
      `invalid saga ${name}: ${parsed.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

function captureLogs(into: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') into.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}

export async function createEngineHarness(options: HarnessOptions = {}): Promise<EngineHarness> {
  const database = await createTestDatabase();
  const downstream = await startFakeDownstream();
  const db = database.db;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, captureLogs(lines));
  let running: RunningEngine | undefined;

  const harness: EngineHarness = {
    database,
    db,
    downstream,
    get engine() {
      return running;
    },
    logs: () => [...lines],

    async defineSaga(name, steps, sagaOptions = {}) {
      const definition = buildSagaDefinition(downstream, name, steps, sagaOptions);
      await registerDefinition(db, definition);
      return {
        name,
        version: definition.version,
        definition,
        path: (stepId) => `/${name}/${stepId}`,
        undoPath: (stepId) => `/${name}/${stepId}/undo`,
        start: async (input = {}, context, startOptions = {}) => {
          const { runId } = await startRun(db, {
            workflowName: name,
            version: definition.version,
            input,
            ...(context ? { context } : {}),
            correlationId: startOptions.correlationId ?? `corr-${name}-${Date.now()}`,
            ...(startOptions.traceParent ? { traceParent: startOptions.traceParent } : {}),
            ...(startOptions.idempotencyKey ? { idempotencyKey: startOptions.idempotencyKey } : {}),
          });
          return runId;
        },
      };
    },

    async getRun(runId) {
      const view = await getRun(db, runId);
      if (!view) throw new Error(`run ${runId} not found`);
      return view;
    },

    waitTerminal(runId, timeoutMs = 20_000) {
      return waitFor(
        async () => {
          const view = await harness.getRun(runId);
          return TERMINAL_RUN_STATUSES.includes(view.run.status) ? view : undefined;
        },
        { timeoutMs, intervalMs: 25, description: `run ${runId} to become terminal` },
      );
    },

    waitStatus(runId, status, timeoutMs = 20_000) {
      return waitFor(
        async () => {
          const view = await harness.getRun(runId);
          return view.run.status === status ? view : undefined;
        },
        { timeoutMs, intervalMs: 25, description: `run ${runId} to become ${status}` },
      );
    },

    async startEngine(overrides = {}) {
      if (running) throw new Error('an engine is already running in this harness');
      running = await startEngine({
        databaseUrl: database.url,
        serviceUrls: {},
        port: null,
        pollIntervalMs: 50,
        shutdownGraceMs: 1_000,
        poolSize: 4,
        logger,
        ...overrides,
      });
      return running;
    },

    async stopEngine() {
      const engine = running;
      running = undefined;
      await engine?.stop();
    },

    async attempts(runId) {
      return db
        .selectFrom('step_attempts')
        .select(['step_index', 'kind', 'attempt_no', 'outcome', 'http_status', 'error'])
        .where('run_id', '=', runId)
        .orderBy('id')
        .execute();
    },

    async outbox(runId) {
      return db
        .selectFrom('outbox')
        .select(['id', 'step_index', 'kind', 'status', 'deliveries', 'lease_owner'])
        .where('run_id', '=', runId)
        .orderBy('id')
        .execute();
    },

    async expectNoMoreWork(runId) {
      const view = await harness.getRun(runId);
      if (!TERMINAL_RUN_STATUSES.includes(view.run.status))
        throw new Error(`run ${runId} is ${view.run.status}, not terminal`);
      const ready = (await harness.outbox(runId)).filter((row) => row.status === 'READY');
      if (ready.length > 0)
        throw new Error(`terminal run ${runId} still has READY outbox items: ${JSON.stringify(ready)}`);
      const before = downstream.requests({ runId }).length;
      if (running) {
        const engine = running.engine;
        await engine.tick();
        await engine.tick();
        await waitFor(() => engine.inFlightCount === 0, {
          timeoutMs: 5_000,
          description: 'in-flight attempts to finish',
        });
      }
      const after = downstream.requests({ runId }).length;
      if (after !== before) throw new Error(`terminal run ${runId} got ${after - before} more request(s)`);
    },

    async close() {
      await harness.stopEngine().catch(() => {});
      await downstream.close();
      await database.drop();
    },
  };

  if (options.engine !== false) await harness.startEngine(options.engine ?? {});
  return harness;
}
