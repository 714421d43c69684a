import { describe, expect, it } from 'vitest';
import { MAX_SLOW_MS, decideInjection, parseSimulation, readSimulation, selectOperationId } from '../src/simulation.js';

describe('parseSimulation', () => {
  it.each([
    ['reject', { kind: 'reject' }],
    ['hang', { kind: 'hang' }],
    [' hang ', { kind: 'hang' }],
    ['unavailable:0', { kind: 'unavailable', times: 0 }],
    ['unavailable:3', { kind: 'unavailable', times: 3 }],
    ['slow:200', { kind: 'slow', ms: 200 }],
    ['slow:999999999', { kind: 'slow', ms: MAX_SLOW_MS }],
  ])('parses %j', (value, expected) => {
    expect(parseSimulation(value)).toEqual(expected);
  });

  it.each([undefined, null, 3, {}, [], '', 'REJECT', 'unavailable', 'unavailable:-1', 'slow:1.5', 'slow:x', 'explode'])(
    'ignores %j',
    (value) => {
      expect(parseSimulation(value)).toBeNull();
    },
  );
});

describe('decideInjection', () => {
  it('proceeds without a simulation', () => {
    expect(decideInjection(null, 1)).toEqual({ kind: 'proceed', delayMs: 0 });
  });

  it('rejects and hangs on every request', () => {
    for (const n of [1, 2, 10]) {
      expect(decideInjection({ kind: 'reject' }, n)).toEqual({ kind: 'reject' });
      expect(decideInjection({ kind: 'hang' }, n)).toEqual({ kind: 'hang' });
    }
  });

  it('is unavailable for the first N requests of a key only', () => {
    const simulation = { kind: 'unavailable', times: 2 } as const;
    expect([1, 2, 3, 4].map((n) => decideInjection(simulation, n).kind)).toEqual([
      'unavailable',
      'unavailable',
      'proceed',
      'proceed',
    ]);
  });

  it('delays slow requests', () => {
    expect(decideInjection({ kind: 'slow', ms: 200 }, 1)).toEqual({ kind: 'proceed', delayMs: 200 });
  });
});

describe('selectOperationId', () => {
  it('uses the body step id for actions, then the step header', () => {
    expect(selectOperationId({ stepId: 'a', kind: 'action' }, { 'x-sagaflow-step-id': 'b' })).toBe('a');
    expect(selectOperationId({}, { 'x-sagaflow-step-id': 'b' })).toBe('b');
    expect(selectOperationId(undefined, {})).toBeUndefined();
    expect(selectOperationId([1, 2], { 'x-sagaflow-step-id': ['c', 'd'] })).toBe('c');
  });

  it('uses compensationId for compensations and nothing else', () => {
    const headers = { 'x-sagaflow-step-id': 'charge-payment' };
    expect(
      selectOperationId({ kind: 'compensation', stepId: 'charge-payment', compensationId: 'refund' }, headers),
    ).toBe('refund');
    expect(selectOperationId({ kind: 'compensation', stepId: 'charge-payment' }, headers)).toBeUndefined();
  });
});

describe('readSimulation', () => {
  it('reads input.simulate, then a top-level simulate', () => {
    expect(readSimulation({ input: { simulate: { a: 'reject' } } }, 'a')).toEqual({ kind: 'reject' });
    expect(readSimulation({ simulate: { a: 'hang' } }, 'a')).toEqual({ kind: 'hang' });
    expect(readSimulation({ input: { simulate: { b: 'reject' } } }, 'a')).toBeNull();
    expect(readSimulation({ input: { simulate: 'reject' } }, 'a')).toBeNull();
    expect(readSimulation({ input: { simulate: { toString: 'reject' } } }, 'constructor')).toBeNull();
    expect(readSimulation({ input: { simulate: { a: 'reject' } } }, undefined)).toBeNull();
  });
});
