import { describe, expect, it } from 'vitest';
import {
  assertCompensationTransition,
  assertRunTransition,
  assertStepTransition,
  canTransitionCompensation,
  canTransitionRun,
  canTransitionStep,
  COMPENSATION_TRANSITIONS,
  IllegalTransitionError,
  isTerminal,
  RUN_TRANSITIONS,
  STEP_TRANSITIONS,
  TERMINAL_RUN_STATUSES,
  type CompensationStatus,
  type RunStatus,
  type StepStatus,
} from '../src/index.js';

const RUN_STATES = Object.keys(RUN_TRANSITIONS) as RunStatus[];
const STEP_STATES = Object.keys(STEP_TRANSITIONS) as StepStatus[];
const COMPENSATION_STATES = Object.keys(COMPENSATION_TRANSITIONS) as CompensationStatus[];

/** Every (from, to) pair of a table, split into the moves it lists and the ones it does not (self-moves aside). */
function pairs<S extends string>(table: Readonly<Record<S, readonly S[]>>): { allowed: [S, S][]; refused: [S, S][] } {
  const states = Object.keys(table) as S[];
  const allowed: [S, S][] = [];
  const refused: [S, S][] = [];
  for (const from of states) {
    for (const to of states) {
      if (from === to) continue;
      (table[from].includes(to) ? allowed : refused).push([from, to]);
    }
  }
  return { allowed, refused };
}

describe('run transitions', () => {
  const { allowed, refused } = pairs(RUN_TRANSITIONS);

  it.each(allowed)('%s -> %s is allowed', (from, to) => {
    expect(canTransitionRun(from, to)).toBe(true);
    expect(() => assertRunTransition(from, to)).not.toThrow();
  });

  it.each(refused)('%s -> %s is refused', (from, to) => {
    expect(canTransitionRun(from, to)).toBe(false);
    expect(() => assertRunTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it.each(RUN_STATES)('staying %s is always allowed (idempotent re-apply)', (state) => {
    expect(canTransitionRun(state, state)).toBe(true);
  });

  it('refuses the moves the lifecycle must never make, naming them', () => {
    expect(() => assertRunTransition('COMPLETED', 'RUNNING')).toThrow('illegal run transition COMPLETED -> RUNNING');
    for (const [from, to] of [
      ['PENDING', 'COMPLETED'],
      ['RUNNING', 'COMPENSATED'],
      ['COMPENSATING', 'RUNNING'],
      ['COMPENSATING', 'COMPLETED'],
      ['CANCELLING', 'RUNNING'],
      ['CANCELLED', 'CANCELLING'],
      ['COMPENSATED', 'COMPENSATING'],
    ] as const) {
      expect(canTransitionRun(from, to), `${from} -> ${to}`).toBe(false);
    }
  });

  it('the terminal states are exactly COMPLETED, COMPENSATED, FAILED, CANCELLED; only FAILED may be retried out of', () => {
    expect([...TERMINAL_RUN_STATUSES].sort()).toEqual(['CANCELLED', 'COMPENSATED', 'COMPLETED', 'FAILED']);
    for (const state of RUN_STATES) expect(isTerminal(state), state).toBe(TERMINAL_RUN_STATUSES.includes(state));
    expect(RUN_TRANSITIONS.COMPLETED).toEqual([]);
    expect(RUN_TRANSITIONS.COMPENSATED).toEqual([]);
    expect(RUN_TRANSITIONS.CANCELLED).toEqual([]);
  });
});

describe('step transitions', () => {
  const { allowed, refused } = pairs(STEP_TRANSITIONS);

  it.each(allowed)('%s -> %s is allowed', (from, to) => {
    expect(canTransitionStep(from, to)).toBe(true);
    expect(() => assertStepTransition(from, to)).not.toThrow();
  });

  it.each(refused)('%s -> %s is refused', (from, to) => {
    expect(canTransitionStep(from, to)).toBe(false);
    expect(() => assertStepTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it.each(STEP_STATES)('staying %s is always allowed (a write that leaves the status as it is)', (state) => {
    expect(canTransitionStep(state, state)).toBe(true);
  });

  it('a succeeded step never changes again', () => {
    expect(STEP_TRANSITIONS.SUCCEEDED).toEqual([]);
    expect(() => assertStepTransition('SUCCEEDED', 'FAILED')).toThrow('illegal step transition SUCCEEDED -> FAILED');
  });
});

describe('compensation transitions', () => {
  const { allowed, refused } = pairs(COMPENSATION_TRANSITIONS);

  it.each(allowed)('%s -> %s is allowed', (from, to) => {
    expect(canTransitionCompensation(from, to)).toBe(true);
    expect(() => assertCompensationTransition(from, to)).not.toThrow();
  });

  it.each(refused)('%s -> %s is refused', (from, to) => {
    expect(canTransitionCompensation(from, to)).toBe(false);
    expect(() => assertCompensationTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it.each(COMPENSATION_STATES)('staying %s is always allowed', (state) => {
    expect(canTransitionCompensation(state, state)).toBe(true);
  });

  it('NONE and COMPENSATED are final', () => {
    expect(COMPENSATION_TRANSITIONS.NONE).toEqual([]);
    expect(COMPENSATION_TRANSITIONS.COMPENSATED).toEqual([]);
  });
});
