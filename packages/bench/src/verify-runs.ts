export type ExpectedOutcome = 'COMPLETED' | 'COMPENSATED' | 'PENDING';

export interface RunRow {
  id: string;
  status: string;
  createdMs: number;
  completedMs: number | null;
}

export interface StepRow {
  runId: string;
  stepId: string;
  status: string;
  compensationStatus: string;
  attempts: number;
  compensationAttempts: number;
}

export interface Verdict {
  /** wrong states: the bench exits non-zero */
  problems: string[];
  /** legal but unexpected here (a retry or a redelivery): reported, not failed */
  warnings: string[];
}

const SHOWN = 5;

/** Each step of a run as the workload expects it to end (charge, reserve, notify). */
function expectedSteps(outcome: ExpectedOutcome): Record<string, { status: string; compensation?: string }> {
  if (outcome === 'PENDING')
    return { charge: { status: 'PENDING' }, reserve: { status: 'PENDING' }, notify: { status: 'PENDING' } };
  if (outcome === 'COMPLETED')
    return { charge: { status: 'SUCCEEDED' }, reserve: { status: 'SUCCEEDED' }, notify: { status: 'SUCCEEDED' } };
  return {
    charge: { status: 'SUCCEEDED', compensation: 'COMPENSATED' },
    reserve: { status: 'SUCCEEDED', compensation: 'COMPENSATED' },
    notify: { status: 'FAILED', compensation: 'NONE' },
  };
}

/** Checks that every submitted run, and each of its steps, ended in the state the workload implies. */
export function verifyRuns(
  submitted: readonly string[],
  runs: readonly RunRow[],
  steps: readonly StepRow[],
  expect: (runId: string) => ExpectedOutcome,
): Verdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  const byId = new Map(runs.map((run) => [run.id, run]));
  const stepsByRun = new Map<string, StepRow[]>();
  for (const step of steps) stepsByRun.set(step.runId, [...(stepsByRun.get(step.runId) ?? []), step]);

  const missing = submitted.filter((id) => !byId.has(id));
  if (missing.length)
    problems.push(`${missing.length} submitted runs not in the database (e.g. ${missing.slice(0, SHOWN).join(', ')})`);
  if (runs.length !== submitted.length)
    problems.push(`${runs.length} runs in the database for ${submitted.length} submitted`);

  const wrong: string[] = [];
  const retried: string[] = [];
  for (const run of runs) {
    const outcome = expect(run.id);
    if (run.status !== outcome) wrong.push(`${run.id} is ${run.status}, expected ${outcome}`);
    const want = expectedSteps(outcome);
    for (const step of stepsByRun.get(run.id) ?? []) {
      const w = want[step.stepId];
      if (!w) continue;
      if (step.status !== w.status || (w.compensation !== undefined && step.compensationStatus !== w.compensation)) {
        wrong.push(
          `${run.id}/${step.stepId} is ${step.status}/${step.compensationStatus}, expected ${w.status}/${w.compensation ?? 'any'}`,
        );
      }
      const attemptsWanted = outcome === 'PENDING' ? 0 : 1;
      const compensationsWanted = w.compensation === 'COMPENSATED' ? 1 : 0;
      if (step.attempts !== attemptsWanted || step.compensationAttempts !== compensationsWanted) {
        retried.push(`${run.id}/${step.stepId} took ${step.attempts}+${step.compensationAttempts} attempts`);
      }
    }
    if ((stepsByRun.get(run.id) ?? []).length !== 3)
      wrong.push(`${run.id} has ${(stepsByRun.get(run.id) ?? []).length} steps`);
  }
  if (wrong.length) problems.push(`${wrong.length} wrong states: ${wrong.slice(0, SHOWN).join('; ')}`);
  if (retried.length)
    warnings.push(`${retried.length} steps needed more than one attempt: ${retried.slice(0, SHOWN).join('; ')}`);
  return { problems, warnings };
}
