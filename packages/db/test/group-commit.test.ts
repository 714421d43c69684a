import { describe, expect, it } from 'vitest';
import { GroupCommitter, type Settlement } from '../src/group-commit.js';

/** A commit function that records its batches and lets the test decide when each finishes. */
function recorder(
  settle: (batch: string[]) => Array<Settlement<string>> | Error = (batch) =>
    batch.map((r) => ({ ok: true, value: `done:${r}` })),
) {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const commit = async (batch: string[]): Promise<Array<Settlement<string>>> => {
    batches.push(batch);
    await new Promise<void>((resolve) => gates.push(resolve));
    const result = settle(batch);
    if (result instanceof Error) throw result;
    return result;
  };
  return { batches, commit, openNext: () => gates.shift()?.() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitter', () => {
  it('commits the first request alone and everything that arrived meanwhile as the next batch', async () => {
    const r = recorder();
    const committer = new GroupCommitter<string, string>({ commit: r.commit });
    const first = committer.submit('a');
    await tick();
    expect(r.batches).toEqual([['a']]);
    const later = ['b', 'c', 'd'].map((x) => committer.submit(x));
    await tick();
    expect(r.batches).toHaveLength(1); // still waiting for the first statement
    r.openNext();
    expect(await first).toBe('done:a');
    await tick();
    expect(r.batches[1]).toEqual(['b', 'c', 'd']);
    r.openNext();
    expect(await Promise.all(later)).toEqual(['done:b', 'done:c', 'done:d']);
  });

  it('never puts two requests with the same key in one batch, and caps the batch size', async () => {
    const r = recorder();
    const committer = new GroupCommitter<string, string>({ commit: r.commit, key: (x) => x[0]!, maxBatch: 2 });
    const all = ['a1', 'a2', 'b1', 'c1'].map((x) => committer.submit(x));
    for (let i = 0; i < 3; i++) {
      await tick();
      r.openNext();
    }
    await Promise.all(all);
    expect(r.batches).toEqual([
      ['a1', 'b1'],
      ['a2', 'c1'],
    ]);
  });

  it('settles each request with its own outcome', async () => {
    const r = recorder((batch) =>
      batch.map((x) => (x === 'bad' ? { ok: false, error: new Error(`refused ${x}`) } : { ok: true, value: x })),
    );
    const committer = new GroupCommitter<string, string>({ commit: r.commit });
    const results = Promise.allSettled(['ok', 'bad', 'fine'].map((x) => committer.submit(x)));
    for (let i = 0; i < 3; i++) {
      await tick();
      r.openNext();
    }
    const [ok, bad, fine] = await results;
    expect(ok).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(bad?.status === 'rejected' ? (bad.reason as Error).message : bad).toBe('refused bad');
    expect(fine).toEqual({ status: 'fulfilled', value: 'fine' });
  });

  it('retries a batch that failed as a whole one request at a time, so one poisoned request fails alone', async () => {
    const r = recorder((batch) =>
      batch.includes('poison') ? new Error('statement failed') : batch.map((x) => ({ ok: true, value: x })),
    );
    const committer = new GroupCommitter<string, string>({ commit: r.commit });
    const blocker = committer.submit('first');
    await tick();
    const rest = Promise.allSettled(['x', 'poison', 'y'].map((v) => committer.submit(v)));
    for (let i = 0; i < 6; i++) {
      r.openNext();
      await tick();
    }
    await blocker;
    const [x, poison, y] = await rest;
    expect(r.batches).toEqual([['first'], ['x', 'poison', 'y'], ['x'], ['poison'], ['y']]);
    expect(x).toEqual({ status: 'fulfilled', value: 'x' });
    expect(poison?.status).toBe('rejected');
    expect(y).toEqual({ status: 'fulfilled', value: 'y' });
  });

  it('fails the whole batch at once when the database is unavailable (callers retry)', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const r = recorder(() => down);
    const committer = new GroupCommitter<string, string>({ commit: r.commit });
    const blocker = committer.submit('first').catch((e: unknown) => e);
    await tick();
    const rest = Promise.allSettled(['a', 'b'].map((v) => committer.submit(v)));
    for (let i = 0; i < 3; i++) {
      r.openNext();
      await tick();
    }
    expect(await blocker).toBe(down);
    expect((await rest).map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(r.batches).toEqual([['first'], ['a', 'b']]);
  });
});
