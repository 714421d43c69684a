import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition } from './helpers.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;

/** `token: null` sends no x-admin-token header. */
function register(target: FastifyInstance, payload: object, token: string | null = ADMIN_TOKEN) {
  return target.inject({
    method: 'POST',
    url: '/v1/admin/workflows',
    headers: token === null ? {} : { 'x-admin-token': token },
    payload,
  });
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

describe('POST /v1/admin/workflows', () => {
  it('201 for a new definition, 200 for the identical one, 409 for a changed one', async () => {
    const definition = makeDefinition();
    const created = await register(app, definition);
    expect(created.statusCode).toBe(201);
    expect(json(created)).toEqual({
      name: definition.name,
      version: '1.0.0',
      checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      created: true,
    });
    const identical = await register(app, definition);
    expect(identical.statusCode).toBe(200);
    expect(json(identical)).toMatchObject({ created: false, checksum: json(created).checksum });
    const changed = await register(app, { ...definition, description: 'something else' });
    expect(changed.statusCode).toBe(409);
    expect(json(changed)).toEqual({ code: 'CONFLICT', message: expect.any(String) });
  });

  it('400 with zod issues for an invalid definition (shape and registration checks)', async () => {
    const badName = await register(app, { ...makeDefinition(), name: 'Not Valid' });
    expect(badName.statusCode).toBe(400);
    const body = json<{ code: string; issues: Array<{ path: unknown[]; message: string }> }>(badName);
    expect(body.code).toBe('BAD_REQUEST');
    expect(body.issues.some((issue) => issue.path[0] === 'name')).toBe(true);

    const definition = makeDefinition();
    const forwardReference = {
      ...definition,
      steps: [
        {
          ...definition.steps[0],
          request: { ...definition.steps[0]!.request, body: { id: '{{steps.send-email.output.id}}' } },
        },
        definition.steps[1],
      ],
    };
    const badTemplate = await register(app, forwardReference);
    expect(badTemplate.statusCode).toBe(400);
    expect(json<{ issues: unknown[] }>(badTemplate).issues.length).toBeGreaterThan(0);

    const empty = await register(app, {});
    expect(empty.statusCode).toBe(400);

    const nul = await register(app, { ...makeDefinition(), description: 'a\u0000b' });
    expect(nul.statusCode).toBe(400);
  });

  it('401 without a token, with a wrong token, or with a token of another length', async () => {
    const definition = makeDefinition();
    for (const token of [null, 'x'.repeat(ADMIN_TOKEN.length), 'short', `${ADMIN_TOKEN}x`]) {
      const response = await register(app, definition, token);
      expect(response.statusCode).toBe(401);
      expect(json(response)).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    }
    const stored = await testDb.db
      .selectFrom('workflow_definitions')
      .select('name')
      .where('name', '=', definition.name)
      .execute();
    expect(stored).toEqual([]);
  });

  it('401 for every admin request when no ADMIN_TOKEN is configured', async () => {
    const open = buildTestApp(testDb.db, {}, { ADMIN_TOKEN: '' });
    try {
      expect((await register(open, makeDefinition(), '')).statusCode).toBe(401);
      expect((await register(open, makeDefinition(), 'anything')).statusCode).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('429 with Retry-After once the per-client budget is spent (in memory without Redis)', async () => {
    const limited = buildTestApp(testDb.db, {}, { ADMIN_RATE_LIMIT_MAX: '2', ADMIN_RATE_LIMIT_WINDOW_MS: '30000' });
    try {
      const definition = makeDefinition();
      expect((await register(limited, definition)).statusCode).toBe(201);
      expect((await register(limited, definition)).statusCode).toBe(200);
      const refused = await register(limited, definition);
      expect(refused.statusCode).toBe(429);
      expect(json(refused)).toEqual({ code: 'TOO_MANY_REQUESTS', message: expect.any(String) });
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
    } finally {
      await limited.close();
    }
  });
});
