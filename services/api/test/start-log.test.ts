import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, makeDefinition, registerDefinition, startRun } from './helpers.js';
import { createCapturedApiLogger, type LogCapture } from './observability/log-capture.js';

/** Issue #11 defect 7: a start logs keys and sizes at info; values only at debug, capped and redacted. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await testDb?.drop();
});

async function loggedApp(level: 'info' | 'debug'): Promise<{ app: FastifyInstance; logs: LogCapture; name: string }> {
  const { logs, logger } = createCapturedApiLogger(level);
  const app = buildTestApp(testDb.db, { logger });
  apps.push(app);
  const definition = makeDefinition();
  await registerDefinition(app, definition);
  return { app, logs, name: definition.name };
}

const INPUT = { orderId: 'o-1', blob: 'b'.repeat(200_000), customer: { apiKey: 'k-123456', note: 'n' } };
const CONTEXT = { tenant: 't-1' };

describe('the "run started" line', () => {
  it('at info: the keys and byte sizes of input and context, not their values', async () => {
    const { app, logs, name } = await loggedApp('info');
    expect((await startRun(app, name, { input: INPUT, context: CONTEXT })).statusCode).toBe(202);
    const started = logs.records().find((r) => r['msg'] === 'run started');
    expect(started).toMatchObject({
      inputKeys: ['orderId', 'blob', 'customer'],
      inputBytes: Buffer.byteLength(JSON.stringify(INPUT)),
      contextKeys: ['tenant'],
      contextBytes: Buffer.byteLength(JSON.stringify(CONTEXT)),
    });
    expect(started).not.toHaveProperty('input');
    expect(started).not.toHaveProperty('context');
    expect(logs.text()).not.toContain('bbbbbbbbbb');
    expect(logs.text().length).toBeLessThan(8 * 1024);
  });

  it('at debug: the values too, each capped at about 2 KiB and redacted', async () => {
    const { app, logs, name } = await loggedApp('debug');
    expect((await startRun(app, name, { input: INPUT, context: CONTEXT })).statusCode).toBe(202);
    const started = logs.records().find((r) => r['msg'] === 'run started') as {
      input: { orderId: string; blob: string; customer?: Record<string, unknown>; '…'?: string };
      context: unknown;
    };
    expect(started.input.orderId).toBe('o-1');
    expect(started.input.blob).toMatch(/^b+…\[\d+ more chars\]$/);
    expect(JSON.stringify(started.input).length).toBeLessThan(2_300);
    expect(started.context).toEqual(CONTEXT);
    expect(logs.text()).not.toContain('k-123456');
  });
});
