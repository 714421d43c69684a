import type { CompensationStatus, RunStatus, StepStatus } from './types.js';

/**
 * The state machine, written down once. The planners check every run move and the writer (rowWrites) checks every
 * run, step and compensation move it writes against these tables; migrations/sql/001_init.sql lists the same states in its CHECK constraints; the
 * mermaid diagram in docs/architecture.md#state-machine draws them.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  PENDING: ['RUNNING', 'CANCELLING', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'COMPENSATING', 'FAILED', 'CANCELLING', 'CANCELLED'],
  COMPENSATING: ['COMPENSATED', 'FAILED'],
  CANCELLING: ['CANCELLED', 'FAILED'],
  // an operator's retryStep: forward again, or resume the unwinding
  FAILED: ['RUNNING', 'COMPENSATING', 'CANCELLING'],
  COMPLETED: [],
  COMPENSATED: [],
  CANCELLED: [],
};

export const STEP_TRANSITIONS: Readonly<Record<StepStatus, readonly StepStatus[]>> = {
  // PENDING → FAILED: a step retried by an operator whose run is cancelled before it runs again
  PENDING: ['RUNNING', 'SKIPPED', 'FAILED'],
  // RUNNING stays RUNNING between retries; FAILED also covers a cancel that withdrew its retry
  RUNNING: ['SUCCEEDED', 'FAILED'],
  FAILED: ['PENDING'],
  SUCCEEDED: [],
  SKIPPED: ['PENDING'],
};

export const COMPENSATION_TRANSITIONS: Readonly<Record<CompensationStatus, readonly CompensationStatus[]>> = {
  NONE: [],
  PENDING: ['RUNNING'],
  RUNNING: ['COMPENSATED', 'FAILED'],
  FAILED: ['PENDING'],
  COMPENSATED: [],
};

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

export function canTransitionRun(from: RunStatus, to: RunStatus): boolean {
  return from === to || RUN_TRANSITIONS[from].includes(to);
}

export function canTransitionStep(from: StepStatus, to: StepStatus): boolean {
  return from === to || STEP_TRANSITIONS[from].includes(to);
}

export function canTransitionCompensation(from: CompensationStatus, to: CompensationStatus): boolean {
  return from === to || COMPENSATION_TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(entity: 'run' | 'step' | 'compensation', from: string, to: string) {
    super(`illegal ${entity} transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertRunTransition(from: RunStatus, to: RunStatus): void {
  if (!canTransitionRun(from, to)) throw new IllegalTransitionError('run', from, to);
}

export function assertStepTransition(from: StepStatus, to: StepStatus): void {
  if (!canTransitionStep(from, to)) throw new IllegalTransitionError('step', from, to);
}

export function assertCompensationTransition(from: CompensationStatus, to: CompensationStatus): void {
  if (!canTransitionCompensation(from, to)) throw new IllegalTransitionError('compensation', from, to);
}
