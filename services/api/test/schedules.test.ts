import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SagaFlowError, type SagaFlowClient, type WorkflowDefinition } from '@sagaflow/client';
import { createTestDatabase } from '@sagaflow/db/testing';
import { loadConfig } from '../src/env.js';
import { startServer, type RunningApi } from '../src/start-server.js';
import { ADMIN_TOKEN, makeDefinition } from './helpers.js';

/**
 * /v1/admin/schedules through the SDK against a listening API and real Postgres. No engine runs here, so nothing
 * fires by itself: what the routes store and answer is checked as is (firing: services/engine/test/schedules.test.ts).
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let api: RunningApi;
let client: SagaFlowClient;
let anonymous: SagaFlowClient;
const definition = makeDefinition() as WorkflowDefinition;
const base = { workflowName: definition.name, cron: '0 9 * * MON-FRI', input: { report: 'daily' } };

beforeAll(async () => {
  testDb = await createTestDatabase();
  api = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ADMIN_RATE_LIMIT_MAX: '1000',
    }),
  );
  client = createClient({ baseUrl: api.url, adminToken: ADMIN_TOKEN });
  anonymous = createClient({ baseUrl: api.url });
  await client.admin.workflows.register(definition);
  await client.admin.workflows.register({ ...definition, version: '1.1.0' });
});

afterAll(async () => {
  await api?.stop();
  await testDb?.drop();
});

async function refusal(promise: Promise<unknown>): Promise<SagaFlowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SagaFlowError);
  return error as SagaFlowError;
}

describe('PUT /v1/admin/schedules/{id}', () => {
  it('creates (201) with the defaults, then replaces (200)', async () => {
    const before = Date.now();
    const created = await client.admin.schedules.put('weekday-report', base);
    expect(created).toMatchObject({
      created: true,
      id: 'weekday-report',
      workflowName: definition.name,
      version: null,
      cron: '0 9 * * MON-FRI',
      timezone: 'UTC',
      input: { report: 'daily' },
      context: {},
      overlap: 'skip',
      paused: false,
      lastFireAt: null,
      lastRunId: null,
      skippedCount: 0,
      missedCount: 0,
    });
    const next = new Date(created.nextFireAt!);
    expect(next.getTime()).toBeGreaterThan(before);
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([9, 0, 0]);
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());

    const replaced = await client.admin.schedules.put('weekday-report', {
      ...base,
      version: '1.0.0',
      timezone: 'America/New_York',
      context: { tenant: 'acme' },
      overlap: 'allow',
    });
    expect(replaced).toMatchObject({
      created: false,
      version: '1.0.0',
      timezone: 'America/New_York',
      context: { tenant: 'acme' },
      overlap: 'allow',
    });
    // 09:00 in New York is 13:00 or 14:00 UTC depending on DST
    expect([13, 14]).toContain(new Date(replaced.nextFireAt!).getUTCHours());
    expect(await client.admin.schedules.get('weekday-report')).toEqual({
      ...replaced,
      created: undefined,
      updatedAt: expect.any(String),
    } as never);
  });

  it('keeps the next fire time when cron and time zone do not change', async () => {
    const first = await client.admin.schedules.put('keeps-next', { ...base, cron: '0 0 1 1 *' });
    const second = await client.admin.schedules.put('keeps-next', { ...base, cron: '0 0 1 1 *', input: { x: 1 } });
    expect(second.nextFireAt).toBe(first.nextFireAt);
    expect(second.input).toEqual({ x: 1 });
  });

  it('accepts 6-field (seconds) expressions and a paused start', async () => {
    const seconds = await client.admin.schedules.put('every-second', { ...base, cron: '* * * * * *' });
    expect(new Date(seconds.nextFireAt!).getTime() - Date.now()).toBeLessThanOrEqual(1_500);
    expect(new Date(seconds.nextFireAt!).getUTCMilliseconds()).toBe(0);
    const paused = await client.admin.schedules.put('starts-paused', { ...base, paused: true });
    expect(paused).toMatchObject({ paused: true, nextFireAt: null });
  });

  it('400 naming an invalid cron, an invalid time zone, an unknown workflow or version', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ ...base, cron: 'every monday' }, /cron "every monday" is invalid/],
      [{ ...base, cron: '61 * * * *' }, /cron "61 \* \* \* \*" is invalid: .*minute/],
      [{ ...base, cron: '* * * * * * *' }, /cron .* is invalid: .*5 or 6 parts/],
      [{ ...base, cron: '2030-01-01T00:00:00' }, /a date is not a cron expression/],
      [{ ...base, cron: '0 0 30 2 *' }, /never fires/],
      [{ ...base, timezone: 'Mars/Olympus_Mons' }, /timezone "Mars\/Olympus_Mons" is not an IANA time zone/],
      [{ ...base, workflowName: 'no-such-workflow' }, /workflow no-such-workflow is not registered/],
      [{ ...base, version: '9.9.9' }, new RegExp(`workflow ${definition.name}@9.9.9 is not registered`)],
    ];
    for (const [body, message] of cases) {
      const error = await refusal(client.admin.schedules.put('bad', body as never));
      expect(error.status, JSON.stringify(body)).toBe(400);
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(message);
    }
    // shape errors: zod issues
    for (const body of [
      { ...base, overlap: 'sometimes' },
      { ...base, input: 'not an object' },
      { ...base, cron: '' },
    ]) {
      const error = await refusal(client.admin.schedules.put('bad', body as never));
      expect(error.status).toBe(400);
      expect(error.issues?.length).toBeGreaterThan(0);
    }
    const badId = await refusal(client.admin.schedules.put('Not_An_Id', base));
    expect(badId.status).toBe(400);
    expect(await client.admin.schedules.list()).not.toContainEqual(expect.objectContaining({ id: 'bad' }));
  });
});

describe('the other schedule routes', () => {
  it('lists by id, gets one, 404 for an unknown one', async () => {
    await client.admin.schedules.put('b-list', base);
    await client.admin.schedules.put('a-list', base);
    const ids = (await client.admin.schedules.list()).map((s) => s.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['a-list', 'b-list']));
    expect((await client.admin.schedules.get('a-list')).id).toBe('a-list');
    const missing = await refusal(client.admin.schedules.get('no-such-schedule'));
    expect([missing.status, missing.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('pause nulls nextFireAt, resume sets it again (both 202, both idempotent)', async () => {
    await client.admin.schedules.put('pausable', { ...base, cron: '*/5 * * * *' });
    const paused = await client.admin.schedules.pause('pausable');
    expect(paused).toMatchObject({ paused: true, nextFireAt: null });
    expect(await client.admin.schedules.pause('pausable')).toMatchObject({ paused: true, nextFireAt: null });
    const resumed = await client.admin.schedules.resume('pausable');
    expect(resumed.paused).toBe(false);
    const next = new Date(resumed.nextFireAt!);
    expect(next.getTime()).toBeGreaterThan(Date.now() - 1_000);
    expect(next.getUTCMinutes() % 5).toBe(0);
    expect(await client.admin.schedules.resume('pausable')).toMatchObject({ nextFireAt: resumed.nextFireAt });
    const response = await fetch(`${api.url}/v1/admin/schedules/pausable/pause`, {
      method: 'POST',
      headers: { 'x-admin-token': ADMIN_TOKEN },
    });
    expect(response.status).toBe(202);
    expect((await refusal(client.admin.schedules.pause('nope'))).status).toBe(404);
    expect((await refusal(client.admin.schedules.resume('nope'))).status).toBe(404);
  });

  it('trigger starts one run now (even paused, whatever the overlap), moves lastFireAt and lastRunId', async () => {
    await client.admin.schedules.put('triggered', { ...base, context: { tenant: 't1' }, paused: true });
    const first = await client.admin.schedules.trigger('triggered');
    expect(first).toMatchObject({ scheduleId: 'triggered', workflowName: definition.name });
    expect(first.idempotencyKey).toBe(`schedule:triggered:trigger:${first.firedAt}`);
    const view = await client.runs.get(first.runId);
    expect(view.run).toMatchObject({
      workflowName: definition.name,
      workflowVersion: '1.1.0',
      input: { report: 'daily' },
      context: { tenant: 't1' },
      correlationId: first.idempotencyKey,
      status: 'PENDING',
    });
    // the first run is not terminal; overlap skip does not stop a trigger
    const second = await client.admin.schedules.trigger('triggered');
    expect(second.runId).not.toBe(first.runId);
    const schedule = await client.admin.schedules.get('triggered');
    expect(schedule).toMatchObject({
      lastRunId: second.runId,
      lastFireAt: second.firedAt,
      paused: true,
      nextFireAt: null,
      skippedCount: 0,
    });
    const rows = await testDb.db
      .selectFrom('workflow_runs')
      .select(['id', 'idempotency_key'])
      .where('idempotency_key', 'like', 'schedule:triggered:%')
      .execute();
    expect(rows.map((r) => r.id).sort()).toEqual([first.runId, second.runId].sort());
    expect((await refusal(client.admin.schedules.trigger('nope'))).status).toBe(404);
  });

  it('delete answers 204, then the schedule is gone (404 on the next delete)', async () => {
    await client.admin.schedules.put('doomed', base);
    const response = await fetch(`${api.url}/v1/admin/schedules/doomed`, {
      method: 'DELETE',
      headers: { 'x-admin-token': ADMIN_TOKEN },
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect((await refusal(client.admin.schedules.get('doomed'))).status).toBe(404);
    expect((await refusal(client.admin.schedules.delete('doomed'))).status).toBe(404);
    await client.admin.schedules.put('doomed-too', base);
    await client.admin.schedules.delete('doomed-too');
    expect((await client.admin.schedules.list()).map((s) => s.id)).not.toContain('doomed-too');
  });

  it('401 without the admin token on every route', async () => {
    await client.admin.schedules.put('guarded', base);
    const calls: Array<() => Promise<unknown>> = [
      () => anonymous.admin.schedules.put('guarded', base),
      () => anonymous.admin.schedules.list(),
      () => anonymous.admin.schedules.get('guarded'),
      () => anonymous.admin.schedules.pause('guarded'),
      () => anonymous.admin.schedules.resume('guarded'),
      () => anonymous.admin.schedules.trigger('guarded'),
      () => anonymous.admin.schedules.delete('guarded'),
    ];
    for (const call of calls) expect((await refusal(call())).status).toBe(401);
    expect(await client.admin.schedules.get('guarded')).toMatchObject({ paused: false, lastRunId: null });
  });
});
