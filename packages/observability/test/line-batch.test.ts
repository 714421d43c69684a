import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LineBatch, type LineSink } from '../src/line-batch.js';

/** A sink that records what it is handed. */
function recordingSink() {
  const writes: string[] = [];
  const calls: string[] = [];
  const sink: LineSink = {
    write: (data) => {
      writes.push(data);
      calls.push('write');
      return true;
    },
    flush: (cb) => {
      calls.push('flush');
      cb?.(null);
    },
    flushSync: () => void calls.push('flushSync'),
  };
  return { sink, writes, calls };
}

const line = (n: number) => `${JSON.stringify({ level: 30, n, msg: 'step attempt succeeded' })}\n`;

describe('LineBatch', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('hands the sink one string per batch, in order, once minChars characters wait', () => {
    const { sink, writes } = recordingSink();
    const batch = new LineBatch(sink, 200, 100);
    const lines = Array.from({ length: 40 }, (_, n) => line(n));
    for (const l of lines) batch.write(l);
    // each batch holds the lines that reached the threshold, nothing more: 40 lines of ~50 characters → ~10 batches
    expect(writes.length).toBeGreaterThanOrEqual(8);
    expect(writes.length).toBeLessThanOrEqual(11);
    for (const w of writes) expect(w.length).toBeGreaterThanOrEqual(200);
    batch.flushSync();
    expect(writes.join('')).toBe(lines.join(''));
    batch.close();
  });

  it('writes a short batch within the interval, and nothing at all while idle', () => {
    const { sink, writes } = recordingSink();
    const batch = new LineBatch(sink, 4096, 100);
    vi.advanceTimersByTime(1_000);
    expect(writes).toEqual([]);
    batch.write(line(1));
    batch.write(line(2));
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(writes).toEqual([line(1) + line(2)]);
    vi.advanceTimersByTime(1_000);
    expect(writes).toHaveLength(1);
    batch.close();
  });

  it('flushSync and flush hand over what waits before the sink flushes', () => {
    const { sink, writes, calls } = recordingSink();
    const batch = new LineBatch(sink, 4096, 100);
    batch.write(line(1));
    batch.flushSync();
    expect(calls).toEqual(['write', 'flushSync']);
    batch.write(line(2));
    const done = vi.fn();
    batch.flush(done);
    expect(calls).toEqual(['write', 'flushSync', 'write', 'flush']);
    expect(done).toHaveBeenCalledOnce();
    expect(writes).toEqual([line(1), line(2)]);
    batch.close();
  });
});
