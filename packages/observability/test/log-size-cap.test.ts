import { describe, expect, it } from 'vitest';
import { capLogRecord } from '../src/log-size-cap.js';

describe('capLogRecord', () => {
  it('keeps small records as they are', () => {
    const record = { runId: 'r', input: { a: 1, b: [true, null, 'x'] }, n: 3 };
    expect(capLogRecord(record)).toEqual(record);
  });

  it('cuts a long string and says how much was cut', () => {
    const out = capLogRecord({ body: 'y'.repeat(10_000) }, 100);
    expect(out.body.length).toBeLessThan(130);
    expect(out.body).toMatch(/^y+…\[\d+ more chars\]$/);
    expect(Number(/\[(\d+) more/.exec(out.body)![1]) + out.body.indexOf('…')).toBe(10_000);
  });

  it('keeps the first keys and items of a large object and counts the rest', () => {
    const big = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    const out = capLogRecord({ output: big, list: Array.from({ length: 1000 }, () => 'item-value') }, 200);
    const keys = Object.keys(out.output);
    expect(keys[0]).toBe('k0');
    expect(out.output['…']).toMatch(/^\[\d+ more keys\]$/);
    expect(JSON.stringify(out.output).length).toBeLessThan(400);
    expect(out.list.at(-1)).toMatch(/^…\[\d+ more items\]$/);
    expect(JSON.stringify(out.list).length).toBeLessThan(400);
  });

  it('gives each field its own budget and leaves errors and dates to pino', () => {
    const err = new Error('e'.repeat(5000));
    const at = new Date(0);
    const out = capLogRecord({ err, at, a: 'a'.repeat(50), b: 'b'.repeat(50) }, 60);
    expect(out.err).toBe(err);
    expect(out.at).toBe(at);
    expect(out.a).toBe('a'.repeat(50));
    expect(out.b).toBe('b'.repeat(50));
  });
});
