import { randomUUID } from 'node:crypto';
import { COMPENSATION_TRANSITIONS, RUN_TRANSITIONS, STEP_TRANSITIONS, TERMINAL_RUN_STATUSES } from '@sagaflow/saga';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompensationStatus, RunStatus, StepStatus } from '../src/index.js';
import { createTestDatabase } from '../src/testing/index.js';

/** The saga core's state machine (packages/saga) and the columns' CHECK constraints list the same states. */

const RUN_STATES = Object.keys(RUN_TRANSITIONS) as RunStatus[];
const STEP_STATES = Object.keys(STEP_TRANSITIONS) as StepStatus[];
const COMPENSATION_STATES = Object.keys(COMPENSATION_TRANSITIONS) as CompensationStatus[];

describe('the SQL CHECK constraints list exactly the states of the tables', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db
      .insertInto('workflow_definitions')
      .values({ name: 'sm', version: '1.0.0', definition: '{}', checksum: 'a'.repeat(64) })
      .execute();
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** The quoted literals of a named `col = ANY (ARRAY[...])` check constraint. */
  async function checkedStates(constraint: string): Promise<string[]> {
    const { rows } = await sql<{ def: string }>`
      select pg_get_constraintdef(oid) as def from pg_constraint where conname = ${constraint} and contype = 'c'
    `.execute(database.db);
    expect(rows, `constraint ${constraint}`).toHaveLength(1);
    return [...rows[0]!.def.matchAll(/'([A-Z_]+)'::text/g)].map((m) => m[1]!).sort();
  }

  it.each([
    ['workflow_runs_status_check', RUN_STATES],
    ['run_steps_status_check', STEP_STATES],
    ['run_steps_compensation_status_check', COMPENSATION_STATES],
  ] as const)('%s', async (constraint, states) => {
    expect(await checkedStates(constraint)).toEqual([...states].sort());
  });

  async function insertRun(status: string): Promise<string> {
    const id = randomUUID();
    const terminal = (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
    const needsError = ['FAILED', 'COMPENSATED', 'CANCELLED'].includes(status);
    const cancelled = ['CANCELLING', 'CANCELLED'].includes(status);
    await sql`
      insert into workflow_runs (id, workflow_name, workflow_version, status, input, correlation_id, error, completed_at, cancel_requested_at)
      values (${id}, 'sm', '1.0.0', ${status}, '{}', 'c',
              ${needsError ? JSON.stringify({ code: 'STEP_FAILED', message: 'x' }) : null}::jsonb,
              ${terminal ? sql`now()` : null}, ${cancelled ? sql`now()` : null})
    `.execute(database.db);
    return id;
  }

  async function insertStep(runId: string, index: number, status: string, compensation: string): Promise<void> {
    await sql`
      insert into run_steps (run_id, step_index, step_id, status, compensation_status, finished_at)
      values (${runId}, ${index}, ${`s${index}`}, ${status}, ${compensation}, now())
    `.execute(database.db);
  }

  function checkViolation(error: unknown): string | undefined {
    const e = error as { code?: string; constraint?: string };
    return e.code === '23514' ? e.constraint : undefined;
  }

  it('every run state inserts, and an unknown one is refused by the status check', async () => {
    for (const state of RUN_STATES) await insertRun(state);
    const error = await insertRun('PAUSED').catch((e: unknown) => e);
    expect(checkViolation(error)).toBe('workflow_runs_status_check');
  });

  it('every step and compensation state inserts, and unknown ones are refused', async () => {
    const runId = await insertRun('RUNNING');
    let index = 0;
    for (const state of STEP_STATES) await insertStep(runId, index++, state, 'NONE');
    for (const state of COMPENSATION_STATES) await insertStep(runId, index++, 'SUCCEEDED', state);
    expect(checkViolation(await insertStep(runId, index, 'RETRYING', 'NONE').catch((e: unknown) => e))).toBe(
      'run_steps_status_check',
    );
    expect(checkViolation(await insertStep(runId, index, 'SUCCEEDED', 'SKIPPED').catch((e: unknown) => e))).toBe(
      'run_steps_compensation_status_check',
    );
  });
});
