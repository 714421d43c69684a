import {
  DEFAULT_SIGNAL_TIMEOUT_MS,
  parseIsoTime,
  renderTemplate,
  TemplateError,
  type SleepStepDefinition,
  type WaitForSignalStepDefinition,
} from '@sagaflow/definitions';
import type { ClaimedItem } from '@sagaflow/db';
import type { AttemptResult, StepWait } from '@sagaflow/saga';

/** The oldest unconsumed signal of the step's name in the run's mailbox, read just before deciding. */
export interface MailboxSignal {
  signalId: string;
  payload: unknown;
}

/**
 * One delivery of a sleep or waitForSignal step (docs/contract.md#durable-waits), decided without I/O: no request, no
 * attempt record. A step that does not wait yet begins to (WAITING: its item becomes due at the wake-up or the
 * timeout, unleased) unless it is due already; a waiting step whose time has come wakes (SUCCEEDED, or FAILED with
 * SIGNAL_TIMEOUT); one delivered early (a resume, a signal of another wait) waits on silently.
 */
export function runWait(
  item: ClaimedItem,
  step: SleepStepDefinition | WaitForSignalStepDefinition,
  mailbox: MailboxSignal | undefined,
  now: Date = new Date(),
): AttemptResult {
  const waiting = item.state.steps[item.stepIndex]?.wait ?? null;
  const began = waiting === null;
  if (step.sleep) {
    let wait: StepWait;
    try {
      wait = waiting ?? { for: 'sleep', until: sleepUntil(item, step, now), signal: null };
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { outcome: 'FAILED', error: { code: error.code, message: error.message } };
    }
    if (wait.until.getTime() > now.getTime()) return { outcome: 'WAITING', wait, began };
    return {
      outcome: 'SUCCEEDED',
      output: { sleptUntil: wait.until.toISOString() },
      woken: { wait, began, cause: 'timer', signalId: null },
    };
  }
  const spec = step.waitForSignal;
  const timeoutMs = spec.timeoutMs ?? DEFAULT_SIGNAL_TIMEOUT_MS;
  const wait = waiting ?? { for: 'signal', until: new Date(now.getTime() + timeoutMs), signal: spec.name };
  if (mailbox)
    return {
      outcome: 'SUCCEEDED',
      output: mailbox.payload ?? null,
      woken: { wait, began, cause: 'signal', signalId: mailbox.signalId },
    };
  if (wait.until.getTime() > now.getTime()) return { outcome: 'WAITING', wait, began };
  const woken = { wait, began, cause: 'timeout' as const, signalId: null };
  if (spec.onTimeout === 'continue') return { outcome: 'SUCCEEDED', output: null, woken };
  return {
    outcome: 'FAILED',
    error: { code: 'SIGNAL_TIMEOUT', message: `no "${spec.name}" signal within ${timeoutMs} ms` },
    woken,
  };
}

/** When a sleep that begins now wakes: now + durationMs, or its `until` rendered to an ISO 8601 time. */
function sleepUntil(item: ClaimedItem, step: SleepStepDefinition, now: Date): Date {
  const { durationMs, until } = step.sleep;
  if (durationMs !== undefined || until === undefined) return new Date(now.getTime() + (durationMs ?? 0));
  const steps: Record<string, { output: unknown }> = {};
  for (const [id, output] of Object.entries(item.outputs)) steps[id] = { output };
  const rendered = renderTemplate(until, {
    input: item.run.input,
    context: item.run.context,
    run: { runId: item.runId, workflowName: item.run.workflowName, workflowVersion: item.run.workflowVersion },
    steps,
  });
  const time = typeof rendered === 'string' ? parseIsoTime(rendered) : undefined;
  if (!time)
    throw new TemplateError(
      `sleep.until ${JSON.stringify(until)} rendered ${JSON.stringify(rendered)}, not an ISO 8601 time`,
      until,
    );
  return time;
}
