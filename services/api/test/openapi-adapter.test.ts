import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, makeDefinition, registerDefinition, startRun } from './helpers.js';

/**
 * The OpenAPI adapter hands trpc-to-openapi a request it reads as is: no Fetch `Request` is built per call
 * (openapi-adapter.ts; skipping it cut the API's CPU per start by 29 %). The count is taken by a `Request`
 * subclass put in the global's place, which is what both trpc-to-openapi and @trpc/server construct and test against.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let name: string;
const OriginalRequest = globalThis.Request;
let built = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  const definition = makeDefinition();
  await registerDefinition(app, definition);
  name = definition.name;
});

afterEach(() => {
  globalThis.Request = OriginalRequest;
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

function countRequestsBuilt(): void {
  built = 0;
  globalThis.Request = class CountingRequest extends OriginalRequest {
    constructor(...args: ConstructorParameters<typeof Request>) {
      super(...args);
      built++;
    }
  };
}

describe('the OpenAPI adapter', () => {
  it('serves a start, a read, a bad body and an empty POST without building a Fetch Request', async () => {
    countRequestsBuilt();
    const started = await startRun(app, name, { input: { orderId: 'o-1' } });
    expect(started.statusCode).toBe(202);
    const { runId } = started.json<{ runId: string }>();

    const read = await app.inject({ method: 'GET', url: `/v1/runs/${runId}` });
    expect(read.statusCode).toBe(200);

    const wrongType = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${name}/start`,
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(wrongType.statusCode).toBe(415);

    // cancel takes no body and needs no content-type
    const cancelled = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    expect(cancelled.statusCode).toBe(202);

    const invalid = await app.inject({ method: 'POST', url: `/v1/workflows/${name}/start`, payload: { input: 'no' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'BAD_REQUEST' });

    expect(built).toBe(0);
  });

  it('the counter sees a Request that is built', () => {
    countRequestsBuilt();
    new Request('http://127.0.0.1/');
    expect(built).toBe(1);
  });
});
