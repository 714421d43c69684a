import { describe, expect, it } from 'vitest';
import { buildTimeline, formatDuration, type TimelineEvent, type TimelineStep } from '../src/timeline.js';

/** The timeline model (src/timeline.ts): history events + the run's steps → lanes of bars and labelled gaps. */

const RUN = '01939d2c-0000-7000-8000-000000000000';
const T0 = Date.parse('2026-12-04T10:00:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
let seq = 0;
const event = (type: string, atMs: number, extra: Partial<TimelineEvent> = {}): TimelineEvent => ({
  seq: ++seq,
  at: iso(atMs),
  type,
  stepId: null,
  kind: null,
  attempt: null,
  data: {},
  ...extra,
});
const attempt = (
  stepId: string,
  kind: 'action' | 'compensation',
  n: number,
  startMs: number,
  durationMs: number,
  outcome: string,
  data: Record<string, unknown> = {},
): TimelineEvent =>
  event('ATTEMPT_FINISHED', startMs + durationMs, {
    stepId,
    kind,
    attempt: n,
    data: { outcome, httpStatus: 200, startedAt: iso(startMs), durationMs, error: null, nextAttemptAt: null, ...data },
  });
const step = (stepId: string, status = 'SUCCEEDED', compensationStatus = 'NONE'): TimelineStep => ({
  stepId,
  status,
  compensationStatus,
  startedAt: null,
  nextAttemptAt: null,
});

describe('buildTimeline', () => {
  it('one lane per step in definition order, then compensations in the order they ran, with their idempotency keys', () => {
    const events = [
      attempt('a', 'action', 1, 0, 10, 'SUCCEEDED'),
      attempt('b', 'action', 1, 20, 10, 'SUCCEEDED'),
      attempt('c', 'action', 1, 40, 10, 'FAILED', { httpStatus: 422, error: { code: 'STEP_FAILED', message: 'no' } }),
      attempt('b', 'compensation', 1, 60, 5, 'SUCCEEDED'),
      attempt('a', 'compensation', 1, 70, 5, 'SUCCEEDED'),
    ];
    const timeline = buildTimeline(RUN, events, [step('a'), step('b'), step('c', 'FAILED')], T0 + 100);
    expect(timeline.lanes.map((l) => [l.kind, l.stepId, l.idempotencyKey])).toEqual([
      ['action', 'a', `${RUN}:a`],
      ['action', 'b', `${RUN}:b`],
      ['action', 'c', `${RUN}:c`],
      ['compensation', 'b', `${RUN}:b:compensate`],
      ['compensation', 'a', `${RUN}:a:compensate`],
    ]);
    expect(timeline.lanes[2]!.bars).toEqual([
      {
        attempt: 1,
        outcome: 'FAILED',
        httpStatus: 422,
        start: T0 + 40,
        end: T0 + 50,
        durationMs: 10,
        error: 'STEP_FAILED: no',
      },
    ]);
    expect(timeline.start).toBe(T0);
    expect(timeline.end).toBe(T0 + 75);
  });

  it('labels the wait before a retry: backoff, or Retry-After when the response set it', () => {
    const events = [
      attempt('a', 'action', 1, 0, 10, 'RETRYABLE', {
        httpStatus: 503,
        nextAttemptAt: iso(110),
        error: { code: 'HTTP_ERROR' },
      }),
      attempt('a', 'action', 2, 112, 10, 'RETRYABLE', {
        httpStatus: 429,
        nextAttemptAt: iso(1_122),
        error: { code: 'HTTP_ERROR', retryAfterMs: 1_000 },
      }),
      attempt('a', 'action', 3, 1_125, 10, 'SUCCEEDED'),
    ];
    const [lane] = buildTimeline(RUN, events, [step('a')], T0 + 2_000).lanes;
    expect(lane!.bars.map((b) => b.outcome)).toEqual(['RETRYABLE', 'RETRYABLE', 'SUCCEEDED']);
    // each gap runs from the end of an attempt to the start of the next
    expect(lane!.gaps).toEqual([
      { cause: 'backoff', start: T0 + 10, end: T0 + 112, open: false },
      { cause: 'retry-after', start: T0 + 122, end: T0 + 1_125, open: false },
    ]);
  });

  it('a wait for a signal, a pause, and the attempt running now (open until now)', () => {
    const now = T0 + 5_000;
    const events = [
      attempt('a', 'action', 1, 0, 10, 'SUCCEEDED'),
      event('STEP_WAITING', 20, { stepId: 'wait', data: { waitFor: 'signal', until: iso(9_000) } }),
      event('STEP_WOKEN', 1_000, { stepId: 'wait', data: { cause: 'signal', signalId: 's' } }),
      event('OPERATOR_ACTION', 1_100, { data: { action: 'pause', reason: null, operationId: null } }),
      event('OPERATOR_ACTION', 2_000, { data: { action: 'resume', reason: null, operationId: null } }),
    ];
    const steps = [step('a'), step('wait'), { ...step('c', 'RUNNING'), startedAt: iso(2_100) }];
    const timeline = buildTimeline(RUN, events, steps, now);
    const [a, wait, c] = timeline.lanes;
    expect(wait!.gaps.find((g) => g.cause === 'signal')).toEqual({
      cause: 'signal',
      start: T0 + 20,
      end: T0 + 1_000,
      open: false,
    });
    expect(a!.gaps).toEqual([{ cause: 'paused', start: T0 + 1_100, end: T0 + 2_000, open: false }]);
    expect(c!.bars).toEqual([
      { attempt: 1, outcome: 'RUNNING', httpStatus: null, start: T0 + 2_100, end: now, durationMs: 2_900, error: null },
    ]);
    expect(timeline.end).toBe(now);
  });

  it('a run that ended while it waited (cancelled during a backoff or a wait): the gaps stop when it ended', () => {
    const events = [
      attempt('a', 'action', 1, 0, 10, 'RETRYABLE', {
        httpStatus: 503,
        nextAttemptAt: iso(600_000),
        error: { code: 'HTTP_ERROR' },
      }),
      event('STEP_WAITING', 20, { stepId: 'wait', data: { waitFor: 'signal', until: iso(86_400_000) } }),
    ];
    const steps = [step('a', 'FAILED'), step('wait', 'FAILED')];
    const endedAt = T0 + 3_000;
    // read an hour later: nothing grows past the end of the run, nothing waits for the retry due in 10 min
    const timeline = buildTimeline(RUN, events, steps, endedAt, endedAt);
    const [a, wait] = timeline.lanes;
    expect(a!.gaps).toEqual([{ cause: 'backoff', start: T0 + 10, end: endedAt, open: false }]);
    expect(wait!.gaps).toEqual([{ cause: 'signal', start: T0 + 20, end: endedAt, open: false }]);
    expect(timeline.end).toBe(endedAt);
    // without the end, the backoff runs to its retry's due time
    expect(buildTimeline(RUN, events, steps, endedAt).end).toBe(T0 + 600_000);
  });

  it('50 steps of 10 attempts: 500 bars and 450 gaps, in one pass', () => {
    const events: TimelineEvent[] = [];
    const steps: TimelineStep[] = [];
    let t = 0;
    for (let s = 0; s < 50; s++) {
      const id = `s${s}`;
      steps.push(step(id));
      for (let n = 1; n <= 10; n++) {
        const last = n === 10;
        events.push(
          attempt(id, 'action', n, t, 5, last ? 'SUCCEEDED' : 'RETRYABLE', last ? {} : { nextAttemptAt: iso(t + 6) }),
        );
        t += 6;
      }
    }
    const timeline = buildTimeline(RUN, events, steps, T0 + t);
    expect(timeline.lanes).toHaveLength(50);
    expect(timeline.lanes.flatMap((l) => l.bars)).toHaveLength(500);
    expect(timeline.lanes.flatMap((l) => l.gaps).filter((g) => g.cause === 'backoff')).toHaveLength(450);
  });
});

describe('formatDuration', () => {
  it('is short at every scale', () => {
    expect([850, 1_250, 42_000, 125_000, 7_260_000, 3 * 86_400_000].map(formatDuration)).toEqual([
      '850 ms',
      '1.3 s',
      '42 s',
      '2 min 5 s',
      '2 h 1 min',
      '3 d',
    ]);
  });
});
