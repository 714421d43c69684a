import type { RunState, StepState } from '../src/index.js';

/** Compact step rows: `[status, compensationStatus, error?]`, indexed and named s0, s1, ... */
export type StepRow = [StepState['status'], StepState['compensationStatus'], Record<string, unknown>?];

/** A run state for the pure tests: no attempts made yet unless a test says otherwise. */
export function runState(status: RunState['status'], rows: StepRow[], cancelRequested = false): RunState {
  return {
    runId: '00000000-0000-7000-8000-000000000001',
    status,
    error: null,
    cancelRequested,
    paused: false,
    workflowPaused: false,
    eventSeq: 2,
    workflowName: 'w',
    correlationId: 'c',
    createdAt: new Date('2030-01-01T00:00:00Z'),
    steps: rows.map(([s, c, error], index) => ({
      index,
      stepId: `s${index}`,
      status: s,
      compensationStatus: c,
      error: error ?? null,
      attempts: 0,
      attemptsBeforeRetry: 0,
      compensationAttempts: 0,
      compensationAttemptsBeforeRetry: 0,
      wait: null,
    })),
  };
}
