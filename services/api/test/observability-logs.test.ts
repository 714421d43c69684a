import type { Script } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger as createEngineLogger } from '@sagaflow/engine';
import { createLogger } from '@sagaflow/observability';
import { ADMIN_TOKEN } from './helpers.js';
import { createLogCapture, type LogCapture } from './observability/log-capture.js';
import { startObservedWorld, type ObservedWorld } from './observability/world.js';

/**
 * docs/contract.md#logs, captured from the API and the engine running in this process: every line about a run carries its
 * ids, every transition and attempt outcome is logged exactly once, and LOG_SENSITIVE decides whether sensitive
 * fields and secrets reach the log.
 */

const SECRETS = {
  email: 'buyer@example.com',
  password: 'hunter2-hunter2',
  card: '4111111111111111',
  receipt: 'receipt@example.com',
  bearer: 'bearer-s3cr3t-value',
  downstreamKey: 'downstream-api-key-value',
};
/** A downstream error body of 100 KiB with a secret in it: logged capped (~2 KiB a field) and redacted. */
const BIG_ERROR_BODY = { apiKey: SECRETS.downstreamKey, detail: 'd'.repeat(100_000) };
const INPUT = {
  orderId: 'o-1',
  customer: { email: SECRETS.email, Password: SECRETS.password },
  payments: [{ card: SECRETS.card }],
};

const script: Script = ({ path }, nth) => {
  if (path === '/l-comp/l-b') return { status: nth === 1 ? 503 : 422, body: BIG_ERROR_BODY };
  if (path === '/l-fail/l-a') return { status: nth === 1 ? 422 : 200 };
  if (path === '/l-slow/l-a') return { status: 200, delayMs: 300 };
  return { status: 200, body: { receipt: { to: { Email: SECRETS.receipt } } } };
};

interface Logged {
  world: ObservedWorld;
  api: LogCapture;
  engine: LogCapture;
  all(): Array<Record<string, unknown>>;
}

async function startLoggedWorld(sensitive: boolean): Promise<Logged> {
  const api = createLogCapture();
  const engine = createLogCapture();
  const world = await startObservedWorld({
    script,
    apiLogger: createLogger({ name: 'sagaflow-api', level: 'debug', sensitive, destination: api.destination }),
    // debug: the engine logs each step's output too
    engineLogger: createEngineLogger({
      name: 'sagaflow-engine',
      level: 'debug',
      sensitive,
      destination: engine.destination,
    }),
  });
  return { world, api, engine, all: () => [...api.records(), ...engine.records()] };
}

const post = (world: ObservedWorld, url: string) =>
  world.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${SECRETS.bearer}` } });

describe('LOG_SENSITIVE=false (the default)', () => {
  let logged: Logged;
  const runs: Record<string, string> = {};

  beforeAll(async () => {
    logged = await startLoggedWorld(false);
    const { world } = logged;
    await world.defineSaga('l-ok', [{ id: 'l-a', compensation: true }, { id: 'l-b' }]);
    await world.defineSaga('l-comp', [{ id: 'l-a', compensation: true }, { id: 'l-b' }]);
    await world.defineSaga('l-fail', [{ id: 'l-a' }]);
    await world.defineSaga('l-slow', [{ id: 'l-a', compensation: true }, { id: 'l-b' }]);
    for (const name of ['l-ok', 'l-comp', 'l-fail', 'l-slow']) {
      runs[name] = await world.start(name, INPUT, { 'x-correlation-id': `corr-${name}` });
    }
    expect((await post(world, `/v1/runs/${runs['l-slow']}/cancel`)).statusCode).toBe(202);
    expect((await world.waitTerminal(runs['l-fail']!)).run.status).toBe('FAILED');
    expect((await post(world, `/v1/runs/${runs['l-fail']}/steps/l-a/retry`)).statusCode).toBe(202);
    const ended = await Promise.all(Object.values(runs).map((runId) => world.waitTerminal(runId)));
    expect(ended.map((v) => v.run.status)).toEqual(['COMPLETED', 'COMPENSATED', 'COMPLETED', 'CANCELLED']);
    await logged.world.engine?.stop(); // every engine line is written
  });

  afterAll(async () => {
    await logged?.world.close();
  });

  // the API's lines, then the engine's, each in the order written
  const linesOf = (name: string) => logged.all().filter((r) => r['runId'] === runs[name]);
  const transitions = (name: string) =>
    linesOf(name)
      .filter((r) => r['msg'] === 'run transition' || r['msg'] === 'run started')
      .map((r) => `${String(r['from'] ?? '')}→${String(r['to'])}`);

  it('every line about a run carries correlationId, runId and workflowName; step lines stepId and attemptNo', () => {
    for (const name of Object.keys(runs)) {
      const lines = linesOf(name);
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) {
        expect(line).toMatchObject({ correlationId: `corr-${name}`, workflowName: name });
        if (line['name'] === 'sagaflow-engine')
          expect(line).toMatchObject({ stepId: expect.any(String), attemptNo: expect.any(Number) });
      }
    }
  });

  it('each run transition is logged exactly once, by whichever service made it', () => {
    expect(transitions('l-ok')).toEqual(['→PENDING', 'PENDING→RUNNING', 'RUNNING→COMPLETED']);
    expect(transitions('l-comp')).toEqual([
      '→PENDING',
      'PENDING→RUNNING',
      'RUNNING→COMPENSATING',
      'COMPENSATING→COMPENSATED',
    ]);
    // the retry is the API's transition, the rest the engine's (each service's lines are in order)
    const fail = linesOf('l-fail').filter((r) => r['msg'] === 'run transition' || r['msg'] === 'run started');
    const by = (service: string) =>
      fail.filter((r) => r['name'] === service).map((r) => `${String(r['from'] ?? '')}→${String(r['to'])}`);
    expect(by('sagaflow-api')).toEqual(['→PENDING', 'FAILED→RUNNING']);
    expect(by('sagaflow-engine')).toEqual(['PENDING→RUNNING', 'RUNNING→FAILED', 'RUNNING→COMPLETED']);
    const slow = transitions('l-slow');
    expect(slow[0]).toBe('→PENDING');
    expect(slow.at(-1)).toMatch(/→CANCELLED$/);
    expect(slow.filter((t) => t.endsWith('→CANCELLING') || t.endsWith('→CANCELLED'))).toHaveLength(
      slow.includes('CANCELLING→CANCELLED') ? 2 : 1,
    );
  });

  it('each attempt outcome and each retry (with its delay) is logged once, at a fitting level', () => {
    const outcomes = linesOf('l-comp')
      .filter((r) => /attempt|permanently/.test(String(r['msg'])))
      .map((r) => [r['msg'], r['stepId'], r['attemptNo'], r['level']]);
    expect(outcomes).toEqual([
      ['step attempt succeeded', 'l-a', 1, 30],
      ['step attempt failed; retry scheduled', 'l-b', 1, 40],
      ['step failed permanently', 'l-b', 2, 40],
      ['compensation attempt succeeded', 'l-a', 1, 30],
    ]);
    const retry = linesOf('l-comp').find((r) => r['msg'] === 'step attempt failed; retry scheduled');
    expect(retry).toMatchObject({ retryInMs: 10, httpStatus: 503 });
    // downstream bodies on retry/failure lines are capped at ~2 KiB (not 100 KiB)
    for (const msg of ['step attempt failed; retry scheduled', 'step failed permanently']) {
      const line = linesOf('l-comp').find((r) => r['msg'] === msg)!;
      expect(JSON.stringify(line).length).toBeLessThan(4 * 1024);
      expect(JSON.stringify(line)).toMatch(/d+…\[\d+ more chars\]/);
      expect(JSON.stringify(line)).toContain('"apiKey":"[redacted]"');
    }
    const failed = linesOf('l-comp').find((r) => r['to'] === 'COMPENSATING');
    expect(failed?.['level']).toBe(40);
  });

  it('sensitive fields are redacted at any depth, case-insensitively, in input and output', () => {
    const text = logged.api.text() + logged.engine.text();
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    const started = linesOf('l-ok').find((r) => r['msg'] === 'run started');
    expect(started?.['input']).toEqual({
      orderId: 'o-1',
      customer: { email: '[redacted]', Password: '[redacted]' },
      payments: [{ card: '[redacted]' }],
    });
    const output = linesOf('l-ok').find((r) => r['msg'] === 'step attempt succeeded')?.['output'];
    expect(output).toEqual({ receipt: { to: { Email: '[redacted]' } } });
  });

  it('the admin token never appears in the API log', () => {
    expect(logged.api.text()).not.toContain(ADMIN_TOKEN);
    expect(logged.api.records().some((r) => r['msg'] === 'workflow registered')).toBe(true);
  });

  it('each request is logged once, when it completes, with its method, url, status and time', () => {
    const records = logged.api.records();
    expect(records.filter((r) => r['msg'] === 'incoming request')).toEqual([]);
    const starts = records.filter((r) => r['msg'] === 'request completed' && r['correlationId'] === 'corr-l-ok');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      req: { method: 'POST', url: '/v1/workflows/l-ok/start' },
      res: { statusCode: 202 },
    });
    expect(typeof starts[0]?.['responseTime']).toBe('number');
  });
});

describe('LOG_SENSITIVE=true', () => {
  it('logs input and output as they are', async () => {
    const logged = await startLoggedWorld(true);
    try {
      await logged.world.defineSaga('l-ok', [{ id: 'l-a' }]);
      const runId = await logged.world.start('l-ok', INPUT);
      await logged.world.waitTerminal(runId);
      await logged.world.engine?.stop();
      const started = logged.api.records().find((r) => r['msg'] === 'run started');
      expect(started?.['input']).toEqual(INPUT);
      expect(logged.engine.text()).toContain(SECRETS.receipt);
    } finally {
      await logged.world.close();
    }
  });
});
