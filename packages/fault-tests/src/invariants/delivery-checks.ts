import { isDeepStrictEqual } from 'node:util';
import { formatIdempotencyKey, parseIdempotencyKey } from '@sagaflow/testkit';
import type { AttemptRecord, EffectRecord, RequestRecord, Snapshot, StepRecord, Violation } from './types.js';

/**
 * Pure checks that compare what the database recorded with what the downstream saw (docs/contract.md#downstream-requests, #delivery-guarantees):
 * nothing sent after a run became terminal; one recorded attempt per request except bounded redeliveries;
 * no recorded attempt without its request (TEMPLATE_ERROR attempts without one); exactly one effect per key
 * whose step or compensation succeeded, none for the others; compensations sent in reverse step order.
 */

export interface DeliveryInput {
  snapshot: Snapshot;
  requests: readonly RequestRecord[];
  effects: ReadonlyMap<string, EffectRecord>;
  /** the most redeliveries the scenario's faults can explain */
  maxRedeliveries: number;
}

export interface DeliveryResult {
  violations: Violation[];
  redeliveries: number;
  unrecorded: number;
}

/** Attempts that fail before anything is sent: a template path missing at run time, or a request config error. */
export function sendsNoRequest(attempt: AttemptRecord): boolean {
  const code = attempt.error?.['code'];
  if (code === 'TEMPLATE_ERROR') return true;
  return code === 'STEP_FAILED' && attempt.httpStatus === null && attempt.error?.['lastErrorCode'] === undefined;
}

const groupKey = (key: string, attemptNo: number | undefined): string => `${key}#${attemptNo}`;

function indexSteps(steps: readonly StepRecord[]): Map<string, StepRecord> {
  return new Map(steps.map((s) => [`${s.runId}:${s.stepId}`, s]));
}

function checkEffects(
  input: DeliveryInput,
  requestedKeys: ReadonlySet<string>,
  fail: (runId: string, i: string, d: string) => void,
): void {
  for (const step of input.snapshot.steps) {
    const action = formatIdempotencyKey(step.runId, step.stepId, 'action');
    const effect = input.effects.get(action);
    if (step.waited) {
      // a wait sends nothing: no effect may exist for its key (its output is the wake's, see wait-checks)
      if (effect) fail(step.runId, 'one-effect-per-key', `${step.stepId} waited but an effect was applied for it`);
    } else if (step.status === 'SUCCEEDED') {
      if (!effect)
        fail(
          step.runId,
          'one-effect-per-key',
          `${step.stepId} SUCCEEDED but the downstream applied no effect for ${action}`,
        );
      else if (!isDeepStrictEqual(step.output, effect.body))
        fail(step.runId, 'one-effect-per-key', `${step.stepId} output differs from the effect's stored answer`);
    } else if (effect) {
      fail(step.runId, 'one-effect-per-key', `${step.stepId} is ${step.status} but its effect was applied`);
    }
    if (step.status === 'SKIPPED' && requestedKeys.has(action))
      fail(step.runId, 'spec-4', `${step.stepId} is SKIPPED but was sent`);
    const undo = formatIdempotencyKey(step.runId, step.stepId, 'compensation');
    const undone = input.effects.get(undo);
    if (step.compensationStatus === 'COMPENSATED' && !undone)
      fail(step.runId, 'one-effect-per-key', `${step.stepId} COMPENSATED without an effect for ${undo}`);
    if (step.compensationStatus !== 'COMPENSATED' && undone)
      fail(
        step.runId,
        'one-effect-per-key',
        `${step.stepId} compensation is ${step.compensationStatus} but its effect was applied`,
      );
    if (['NONE', 'PENDING'].includes(step.compensationStatus) && requestedKeys.has(undo)) {
      fail(
        step.runId,
        'compensated-exactly-succeeded',
        `${step.stepId} compensation is ${step.compensationStatus} but was sent`,
      );
    }
  }
}

function checkCompensationOrder(
  input: DeliveryInput,
  steps: ReadonlyMap<string, StepRecord>,
  fail: (runId: string, i: string, d: string) => void,
): void {
  const lastIndex = new Map<string, number>();
  for (const request of [...input.requests].sort((a, b) => a.seq - b.seq)) {
    const parsed = parseIdempotencyKey(request.key);
    if (parsed?.kind !== 'compensation') continue;
    const step = steps.get(`${parsed.runId}:${parsed.stepId}`);
    if (!step) continue;
    if (step.status !== 'SUCCEEDED')
      fail(
        parsed.runId,
        'compensated-exactly-succeeded',
        `compensation of ${step.stepId} sent though its action is ${step.status}`,
      );
    const last = lastIndex.get(parsed.runId);
    if (last !== undefined && step.index > last)
      fail(
        parsed.runId,
        'reverse-order',
        `compensation of ${step.stepId} (step ${step.index}) sent after one of step ${last}`,
      );
    lastIndex.set(parsed.runId, step.index);
  }
}

export function checkDeliveries(input: DeliveryInput): DeliveryResult {
  const violations: Violation[] = [];
  const fail = (runId: string, invariant: string, detail: string): void =>
    void violations.push({ runId, invariant, detail });
  const { runs, attempts, outbox } = input.snapshot;
  const completedAt = new Map(runs.map((r) => [r.id, r.completedAt]));
  const steps = indexSteps(input.snapshot.steps);
  const stepByIndex = new Map(input.snapshot.steps.map((s) => [`${s.runId}#${s.index}`, s]));

  const sent = new Map<string, RequestRecord[]>();
  for (const request of input.requests) {
    const identity = request.identity;
    if (
      identity &&
      formatIdempotencyKey(
        identity.runId,
        identity.stepId,
        identity.kind === 'compensation' ? 'compensation' : 'action',
      ) !== request.key
    ) {
      fail(
        identity.runId,
        'stable-key',
        `request ${request.seq} for ${identity.runId}/${identity.stepId}/${identity.kind} carried the key "${request.key}"`,
      );
      continue;
    }
    const parsed = parseIdempotencyKey(request.key);
    if (!parsed || !steps.has(`${parsed.runId}:${parsed.stepId}`)) {
      fail(
        parsed?.runId ?? '?',
        'known-requests',
        `request ${request.seq} with key "${request.key}" names no step of a known run`,
      );
      continue;
    }
    const done = completedAt.get(parsed.runId);
    if (done !== null && done !== undefined && request.arrivedAt > done) {
      fail(
        parsed.runId,
        'nothing-after-terminal',
        `request ${request.seq} (${request.key}, attempt ${request.attempt}) arrived ${request.arrivedAt - done} ms after the run became terminal`,
      );
    }
    const group = groupKey(request.key, request.attempt);
    sent.set(group, [...(sent.get(group) ?? []), request]);
  }

  const recorded = new Set<string>();
  for (const attempt of attempts) {
    const step = stepByIndex.get(`${attempt.runId}#${attempt.stepIndex}`);
    if (!step) continue;
    const group = groupKey(formatIdempotencyKey(attempt.runId, step.stepId, attempt.kind), attempt.attemptNo);
    recorded.add(group);
    const requests = sent.get(group)?.length ?? 0;
    if (sendsNoRequest(attempt) && requests > 0)
      fail(
        attempt.runId,
        'attempts-match-requests',
        `${group} failed before sending (${String(attempt.error?.['code'])}) yet ${requests} request(s) arrived`,
      );
    if (!sendsNoRequest(attempt) && requests === 0)
      fail(
        attempt.runId,
        'attempts-match-requests',
        `${group} is recorded (${attempt.outcome}) but the downstream never received it`,
      );
  }

  let redeliveries = 0;
  let unrecorded = 0;
  for (const [group, requests] of sent) {
    if (recorded.has(group)) {
      redeliveries += requests.length - 1;
      continue;
    }
    unrecorded += requests.length;
    redeliveries += requests.length;
    const parsed = parseIdempotencyKey(requests[0]!.key)!;
    const step = steps.get(`${parsed.runId}:${parsed.stepId}`)!;
    const parked = outbox.some(
      (o) =>
        o.runId === parsed.runId &&
        o.stepIndex === step.index &&
        o.kind === parsed.kind &&
        o.status === 'DEAD' &&
        o.lastError?.['code'] === 'DELIVERY_EXHAUSTED',
    );
    if (!parked)
      fail(
        parsed.runId,
        'attempts-match-requests',
        `${requests.length} request(s) for ${group} reached the downstream but no attempt was recorded`,
      );
  }
  if (redeliveries > input.maxRedeliveries) {
    fail(
      '*',
      'bounded-redeliveries',
      `${redeliveries} redeliveries exceed the bound of ${input.maxRedeliveries} the scenario's faults explain`,
    );
  }

  checkEffects(input, new Set(input.requests.map((r) => r.key)), fail);
  checkCompensationOrder(input, steps, fail);
  return { violations, redeliveries, unrecorded };
}
