import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#security over real HTTP: template values in a URL are encoded; a bad rendered header value sends nothing. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('templates rendered into a request', () => {
  it('a value in the path or query reaches the downstream percent-encoded: no new segment, query or parameter', async () => {
    const saga = await h.defineSaga('encoded', [
      { id: 'a', request: { method: 'GET', url: `${h.downstream.url}/encoded/a/{{input.id}}?q={{input.q}}&page=1` } },
    ]);

    const runId = await saga.start({ id: '../admin/reset?x=', q: 'x&admin=1' });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPLETED');
    const [request] = h.downstream.requests({ runId });
    expect(request!.target).toBe('/encoded/a/..%2Fadmin%2Freset%3Fx%3D?q=x%26admin%3D1&page=1');
    expect(h.downstream.requests({ path: '/admin/reset' })).toEqual([]);
  });

  it('a failure names the URL as defined, templates unrendered: values of the input never reach the error or the logs', async () => {
    const url = `${h.downstream.url}/secret-query/a/{{input.email}}?token={{input.token}}&page=1`;
    const saga = await h.defineSaga('secret-query', [{ id: 'a', request: { method: 'GET', url } }]);
    // (a body of its own: the fake downstream's default one echoes the path, as any downstream may)
    h.downstream.script('/secret-query/a/ana%40example.com', [{ status: 422, body: { reason: 'rejected' } }]);

    const runId = await saga.start({ email: 'ana@example.com', token: 'SECRETQUERYTOKEN1' });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('FAILED');
    // the request itself carried the values
    expect(h.downstream.requests({ runId })[0]!.target).toBe(
      '/secret-query/a/ana%40example.com?token=SECRETQUERYTOKEN1&page=1',
    );
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', message: `GET ${url} answered 422` });
    const logged = JSON.stringify(h.logs().filter((l) => l['runId'] === runId));
    expect(logged).toContain('answered 422');
    expect(logged).not.toContain('SECRETQUERYTOKEN1');
    expect(logged).not.toContain('ana@example.com');
    expect(logged).not.toContain('ana%40example.com');
  });

  it('a ".." value for a whole path segment fails the step with TEMPLATE_ERROR and sends nothing', async () => {
    const saga = await h.defineSaga('dot-segment', [
      { id: 'a', request: { method: 'GET', url: `${h.downstream.url}/dot-segment/{{input.id}}/admin` } },
    ]);

    const runId = await saga.start({ id: '..' });
    const view = await h.waitTerminal(runId);

    expect(view.run.error).toMatchObject({ code: 'TEMPLATE_ERROR', stepId: 'a' });
    expect(h.downstream.requests({ runId })).toEqual([]);
  });

  it.each([
    ['CR/LF', 'evil\r\nx-injected: 1'],
    ['a character outside Latin-1', 'snow \u2603'],
  ])(
    'a header value rendering %s fails the attempt permanently with TEMPLATE_ERROR, nothing sent',
    async (_, value) => {
      const name = `bad-header-${value.length}`;
      const saga = await h.defineSaga(
        name,
        [{ id: 'a', request: { headers: { 'x-tenant': 'tenant {{input.tenant}}' } } }],
        {
          retry: { maxAttempts: 5, initialIntervalMs: 10, jitter: 'none' },
        },
      );

      const runId = await saga.start({ tenant: value });
      const view = await h.waitTerminal(runId);

      expect(view.run.status).toBe('FAILED');
      expect(view.run.error).toMatchObject({
        code: 'TEMPLATE_ERROR',
        stepId: 'a',
        message: expect.stringContaining('x-tenant'),
      });
      expect(view.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect((await h.attempts(runId)).map((a) => [a.outcome, a.http_status])).toEqual([['FAILED', null]]);
      expect(h.downstream.requests({ runId })).toEqual([]);
      await h.expectNoMoreWork(runId);
    },
  );
});
