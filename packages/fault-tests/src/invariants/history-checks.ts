import type { AttemptRecord, EventRecord, RunRecord, StepRecord, Violation } from './types.js';

const TERMINAL = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

/**
 * A run's history (docs/contract.md#run-history) against its rows: seq 1, 2, 3, … without a gap, RUN_CREATED first; the status changes
 * replay (each from the previous one's to) to the run's final status, the last one carrying the final error of a
 * terminal run; the pause flag replays too (OPERATOR_ACTION pause/resume set and clear it, only when it changes; a
 * cancel request and a terminal status clear it) to the run's flag; and the ATTEMPT_FINISHED events are exactly the committed attempts (no event for an attempt whose
 * result was not committed, none missing).
 */
export function checkHistory(
  run: RunRecord,
  steps: readonly StepRecord[],
  attempts: readonly AttemptRecord[],
  events: readonly EventRecord[],
): Violation[] {
  const violations: Violation[] = [];
  const fail = (invariant: string, detail: string) => violations.push({ runId: run.id, invariant, detail });
  const gap = events.findIndex((e, i) => e.seq !== i + 1);
  if (events.length === 0) fail('history-seq', 'the run has no history');
  else if (gap >= 0) fail('history-seq', `seq ${events[gap]!.seq} at position ${gap + 1}`);
  if (events[0] && events[0].type !== 'RUN_CREATED') fail('history-seq', `starts with ${events[0].type}`);

  let status = 'PENDING';
  let last: EventRecord | undefined;
  for (const e of events.filter((x) => x.type === 'RUN_STATUS_CHANGED')) {
    if (e.data['from'] !== status)
      fail('history-replay', `seq ${e.seq} moves from ${String(e.data['from'])}, not ${status}`);
    status = String(e.data['to']);
    last = e;
  }
  if (status !== run.status) fail('history-replay', `history ends ${status}, the run is ${run.status}`);

  let paused = false;
  for (const e of events) {
    const action = e.type === 'OPERATOR_ACTION' ? e.data['action'] : undefined;
    if (action === 'pause' || action === 'resume') {
      if (paused === (action === 'pause')) fail('history-replay', `seq ${e.seq}: ${action} of a run already so`);
      paused = action === 'pause';
    } else if (e.type === 'CANCEL_REQUESTED') paused = false;
    else if (e.type === 'RUN_STATUS_CHANGED' && TERMINAL.includes(String(e.data['to']))) paused = false;
  }
  if (run.paused !== undefined && paused !== run.paused)
    fail(
      'history-replay',
      `history leaves the run ${paused ? '' : 'not '}paused, the run is ${run.paused ? '' : 'not '}paused`,
    );
  if (run.completedAt !== null && last && JSON.stringify(last.data['error']) !== JSON.stringify(run.error)) {
    fail(
      'history-replay',
      `last status change carries error ${JSON.stringify(last.data['error'])}, the run has ${JSON.stringify(run.error)}`,
    );
  }

  const stepIdOf = new Map(steps.map((s) => [s.index, s.stepId]));
  const key = (stepId: string | null | undefined, kind: string | null, attempt: number | null) =>
    `${stepId}/${kind}/${attempt}`;
  const committed = new Set(attempts.map((a) => key(stepIdOf.get(a.stepIndex), a.kind, a.attemptNo)));
  const recorded = new Set<string>();
  for (const e of events.filter((x) => x.type === 'ATTEMPT_FINISHED')) {
    const k = key(e.stepId, e.kind, e.attempt);
    if (!committed.has(k)) fail('history-attempts', `ATTEMPT_FINISHED ${k} (seq ${e.seq}) has no committed attempt`);
    recorded.add(k);
  }
  for (const k of committed)
    if (!recorded.has(k)) fail('history-attempts', `committed attempt ${k} has no ATTEMPT_FINISHED`);
  return violations;
}
