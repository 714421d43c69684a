import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDownstream, statusesByAttempt, waitFor, type FakeDownstream } from '../src/index.js';

let downstream: FakeDownstream;
beforeEach(async () => {
  downstream = await startFakeDownstream();
});
afterEach(async () => {
  await downstream.close();
});

/** A SagaFlow-like request: POST with the key and attempt headers and an envelope. */
function send(path: string, key?: string, init: { attempt?: number; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(downstream.urlFor(path), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { 'x-idempotency-key': key } : {}),
      ...(init.attempt ? { 'x-sagaflow-attempt': String(init.attempt) } : {}),
    },
    body: JSON.stringify({ kind: 'action', input: { n: 1 } }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

async function answer(response: Promise<Response>): Promise<[number, unknown]> {
  const res = await response;
  const text = await res.text();
  return [res.status, text === '' ? undefined : JSON.parse(text)];
}

describe('the fake downstream', () => {
  it('records each request with its key, what the key names, its attempt and its count per key', async () => {
    await answer(send('/pay', 'run-1:pay', { attempt: 1 }));
    await answer(send('/pay/undo', 'run-1:pay:compensate', { attempt: 1 }));
    await answer(send('/ping'));
    expect(downstream.requests().map((r) => [r.seq, r.path, r.key, r.runId, r.stepId, r.kind, r.attempt])).toEqual([
      [1, '/pay', 'run-1:pay', 'run-1', 'pay', 'action', 1],
      [2, '/pay/undo', 'run-1:pay:compensate', 'run-1', 'pay', 'compensation', 1],
      [3, '/ping', '', undefined, undefined, undefined, undefined],
    ]);
    expect(downstream.requests({ runId: 'run-1' })).toHaveLength(2);
    expect(downstream.requests()[0]).toMatchObject({ method: 'POST', body: { kind: 'action' }, fate: 'answered' });
  });

  it('answers per path script, queue or fallback, with nth counted per key', async () => {
    downstream.script('/a', statusesByAttempt(503, 200));
    downstream.script('/b', [{ status: 201, body: { one: 1 } }, { status: 422 }]);
    downstream.setScript(() => ({ status: 418, body: 'teapot' }));
    expect(await answer(send('/a', 'r:a'))).toEqual([503, { error: 'scripted 503' }]);
    expect(await answer(send('/a', 'r2:a'))).toEqual([503, { error: 'scripted 503' }]);
    expect(await answer(send('/a', 'r:a'))).toEqual([200, { ok: true, path: '/a', nth: 2 }]);
    expect(await answer(send('/b', 'r:b'))).toEqual([201, { one: 1 }]);
    expect((await answer(send('/b', 'r2:b')))[0]).toBe(422);
    expect((await answer(send('/b', 'r3:b')))[0]).toBe(422);
    const res = await send('/other', 'r:other');
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([418, 'text/plain', 'teapot']);
  });

  it('applies a key once: a repeat gets the stored answer and counts as replayed', async () => {
    let n = 0;
    downstream.setScript(() => ({ status: 200, body: { call: ++n } }));
    expect(await answer(send('/pay', 'r:pay'))).toEqual([200, { call: 1 }]);
    expect(await answer(send('/pay', 'r:pay'))).toEqual([200, { call: 1 }]);
    expect(downstream.requests().map((r) => [r.appliedEffect, r.replayed])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect([...downstream.effects().values()]).toEqual([{ key: 'r:pay', seq: 1, status: 200, body: { call: 1 } }]);
  });

  it('a failure stores nothing; a gateway 5xx never reaches the store, even after the effect', async () => {
    downstream.script('/pay', [
      { status: 503 },
      { status: 200, body: { paid: true } },
      { type: 'unavailable', status: 502 },
    ]);
    expect((await answer(send('/pay', 'r:pay')))[0]).toBe(503);
    expect(downstream.effects().size).toBe(0);
    expect(await answer(send('/pay', 'r:pay'))).toEqual([200, { paid: true }]);
    expect(await answer(send('/pay', 'r:pay'))).toEqual([502, { error: 'unavailable' }]);
    expect(downstream.requests().map((r) => r.replayed)).toEqual([false, false, false]);
  });

  it('resets a connection, before or after the effect', async () => {
    downstream.script('/pay', [
      { type: 'reset' },
      { type: 'reset', afterEffect: true, body: { paid: 1 } },
      { status: 200 },
    ]);
    await expect(send('/pay', 'r:pay')).rejects.toThrow();
    expect(downstream.effects().size).toBe(0);
    await expect(send('/pay', 'r:pay')).rejects.toThrow();
    expect(downstream.effects().get('r:pay')).toMatchObject({ seq: 2, body: { paid: 1 } });
    expect(await answer(send('/pay', 'r:pay'))).toEqual([200, { paid: 1 }]);
    expect(downstream.requests().map((r) => [r.fate, r.appliedEffect, r.replayed])).toEqual([
      ['reset', false, false],
      ['reset', true, false],
      ['answered', false, true],
    ]);
  });

  it('hangs until the client gives up, and marks the request abandoned', async () => {
    downstream.script('/slow', [{ type: 'hang' }]);
    await expect(send('/slow', 'r:slow', { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await waitFor(() => downstream.requests()[0]?.abandoned, { timeoutMs: 5_000 });
    expect(downstream.requests()[0]).toMatchObject({ fate: 'hung', abandoned: true });
    expect(downstream.inFlight()).toEqual([]);
  });

  it('holds one request until released with a chosen answer', async () => {
    downstream.setScript((r) => (r.nth === 1 ? { type: 'hold' } : { status: 200, body: { second: true } }));
    const pending = answer(send('/pay', 'r:pay'));
    const held = await downstream.waitForRequest((r) => r.key === 'r:pay');
    expect(downstream.inFlight()).toEqual([held]);
    expect(held.fate).toBe('held');
    downstream.release(held.seq, { status: 200, body: { first: true } });
    expect(await pending).toEqual([200, { first: true }]);
    expect(() => downstream.release(held.seq)).toThrow('is not held');
  });

  it('holds every request to a path until the path is released, then answers by script', async () => {
    downstream.holdPath('/b');
    downstream.script('/b', [{ status: 200, body: { b: 1 } }]);
    const first = answer(send('/b', 'r1:b'));
    const second = answer(send('/b', 'r2:b'));
    await waitFor(() => downstream.heldCount('/b') === 2, { timeoutMs: 5_000 });
    expect(await answer(send('/a', 'r1:a'))).toEqual([200, { ok: true, path: '/a', effectSeq: 3 }]);
    downstream.releasePath('/b');
    expect(await Promise.all([first, second])).toEqual([
      [200, { b: 1 }],
      [200, { b: 1 }],
    ]);
    expect(downstream.heldCount('/b')).toBe(0);
  });

  it('sends no body for a 204 and scripted headers as given', async () => {
    downstream.script('/none', [{ status: 204 }]);
    downstream.script('/busy', [{ status: 429, headers: { 'retry-after': '1' } }]);
    const none = await send('/none', 'r:none');
    expect([none.status, await none.text()]).toEqual([204, '']);
    const busy = await send('/busy', 'r:busy');
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '1']);
  });

  it('forgets everything on reset and drops held requests on close', async () => {
    downstream.script('/x', [{ type: 'hold' }]);
    const held = send('/x', 'r:x').catch((error: unknown) => error);
    await downstream.waitForRequest((r) => r.path === '/x');
    downstream.reset();
    expect(downstream.requests()).toEqual([]);
    await downstream.close();
    expect(await held).toBeInstanceOf(Error);
  });
});
