import { describe, expect, it } from 'vitest';
import { evaluateInvariants, type InvariantInput } from '../src/invariants/check-invariants.js';
import type { AttemptRecord, EffectRecord, EventRecord, RequestRecord, StepRecord } from '../src/invariants/types.js';

/** The checker's input with mutable parts, so each case can break one thing. */
interface World extends InvariantInput {
  requests: RequestRecord[];
  effects: Map<string, EffectRecord>;
}

/**
 * The checker must catch what it claims to: each case starts from a consistent world (one COMPLETED run, one
 * COMPENSATED run, with the downstream's matching log) and breaks exactly one thing.
 */

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const T = 1_700_000_000_000;

function step(runId: string, index: number, stepId: string, over: Partial<StepRecord> = {}): StepRecord {
  return {
    runId,
    index,
    stepId,
    status: 'SUCCEEDED',
    attempts: 1,
    compensationStatus: 'NONE',
    compensationAttempts: 0,
    output: { key: `${runId}:${stepId}` },
    ...over,
  };
}

let attemptId = 0;
function attempt(
  runId: string,
  stepIndex: number,
  kind: 'action' | 'compensation',
  over: Partial<AttemptRecord> = {},
): AttemptRecord {
  return {
    id: ++attemptId,
    runId,
    stepIndex,
    kind,
    attemptNo: 1,
    outcome: 'SUCCEEDED',
    httpStatus: 200,
    error: null,
    ...over,
  };
}

let seq = 0;
function request(key: string, over: Partial<RequestRecord> = {}): RequestRecord {
  seq++;
  return { seq, key, attempt: 1, arrivedAt: T + seq, replayed: false, appliedEffect: true, abandoned: false, ...over };
}

/** A COMPLETED run A (one, two) and a COMPENSATED run B (book ⟲, pay ⟲, ship fails with 400). */
function consistentWorld(): World {
  attemptId = 0;
  seq = 0;
  const requests = [
    request(`${A}:one`),
    request(`${A}:two`),
    request(`${B}:book`),
    request(`${B}:pay`),
    request(`${B}:ship`, { appliedEffect: false }),
    request(`${B}:pay:compensate`),
    request(`${B}:book:compensate`),
  ];
  const effects = new Map(
    requests
      .filter((r) => r.appliedEffect)
      .map((r) => [r.key, { body: r.key.endsWith(':compensate') ? { undone: r.key } : { key: r.key } }]),
  );
  return {
    snapshot: {
      runs: [
        { id: A, status: 'COMPLETED', error: null, cancelRequested: false, completedAt: T + 100 },
        {
          id: B,
          status: 'COMPENSATED',
          error: { code: 'STEP_FAILED', message: 'rejected', stepId: 'ship' },
          cancelRequested: false,
          completedAt: T + 100,
        },
      ],
      steps: [
        step(A, 0, 'one'),
        step(A, 1, 'two'),
        step(B, 0, 'book', { compensationStatus: 'COMPENSATED', compensationAttempts: 1 }),
        step(B, 1, 'pay', { compensationStatus: 'COMPENSATED', compensationAttempts: 1 }),
        step(B, 2, 'ship', { status: 'FAILED', output: null }),
      ],
      attempts: [
        attempt(A, 0, 'action'),
        attempt(A, 1, 'action'),
        attempt(B, 0, 'action'),
        attempt(B, 1, 'action'),
        attempt(B, 2, 'action', {
          outcome: 'FAILED',
          httpStatus: 400,
          error: { code: 'STEP_FAILED', lastErrorCode: 'HTTP_ERROR' },
        }),
        attempt(B, 1, 'compensation'),
        attempt(B, 0, 'compensation'),
      ],
      outbox: [],
    },
    requests,
    effects,
    maxRedeliveries: 0,
  };
}

const invariantsOf = (input: InvariantInput): string[] =>
  [
    ...new Set(
      evaluateInvariants(input).violations.map((v) => `${v.runId === '*' ? '*' : v.runId.slice(0, 1)}:${v.invariant}`),
    ),
  ].sort();

describe('invariant checker', () => {
  it('finds nothing wrong with a consistent world', () => {
    const report = evaluateInvariants(consistentWorld());
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({
      runs: 2,
      byStatus: { COMPLETED: 1, COMPENSATED: 1 },
      redeliveries: 0,
      duplicatesPrevented: 0,
      effects: 6,
    });
  });

  it('catches a run that is not terminal, and a promised run that does not exist', () => {
    const world = consistentWorld();
    world.snapshot.runs[0] = { ...world.snapshot.runs[0]!, status: 'RUNNING', completedAt: null };
    world.promisedRunIds = [A, 'cccccccc-0000-4000-8000-000000000003'];
    expect(invariantsOf(world)).toEqual(['a:terminal', 'c:no-lost-run']);
    expect(evaluateInvariants(world).lostRuns).toBe(2);
  });

  it('catches a COMPLETED run with a step that did not succeed', () => {
    const world = consistentWorld();
    world.snapshot.steps[1] = { ...world.snapshot.steps[1]!, status: 'SKIPPED', attempts: 0 };
    world.snapshot.attempts.splice(1, 1);
    world.requests.splice(1, 1);
    world.effects.delete(`${A}:two`);
    expect(invariantsOf(world)).toEqual(['a:completed-all-succeeded']);
  });

  it('catches a COMPENSATED run that left a succeeded step uncompensated', () => {
    const world = consistentWorld();
    world.snapshot.steps[2] = { ...world.snapshot.steps[2]!, compensationStatus: 'PENDING', compensationAttempts: 0 };
    world.snapshot.attempts.splice(6, 1);
    world.requests.splice(6, 1);
    world.effects.delete(`${B}:book:compensate`);
    expect(invariantsOf(world)).toEqual(['b:compensated-exactly-succeeded']);
  });

  it('catches compensations committed and sent in the wrong order', () => {
    const world = consistentWorld();
    const [pay, book] = [world.snapshot.attempts[5]!, world.snapshot.attempts[6]!];
    world.snapshot.attempts[5] = { ...book, id: pay.id };
    world.snapshot.attempts[6] = { ...pay, id: book.id };
    const [payReq, bookReq] = [world.requests[5]!, world.requests[6]!];
    world.requests[5] = { ...bookReq, seq: payReq.seq, arrivedAt: payReq.arrivedAt };
    world.requests[6] = { ...payReq, seq: bookReq.seq, arrivedAt: bookReq.arrivedAt };
    expect(invariantsOf(world)).toEqual(['b:reverse-order']);
  });

  it('catches a FAILED run that should have compensated, and a CANCELLED run without a cancel', () => {
    const world = consistentWorld();
    world.snapshot.runs[1] = { ...world.snapshot.runs[1]!, status: 'FAILED' };
    world.snapshot.runs[0] = {
      ...world.snapshot.runs[0]!,
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'x' },
    };
    expect(invariantsOf(world)).toEqual(['a:spec-4', 'b:spec-4']);
  });

  it('catches a request that reached the downstream after its run became terminal', () => {
    const world = consistentWorld();
    world.requests.push(request(`${A}:two`, { attempt: 1, arrivedAt: T + 101, appliedEffect: false, replayed: true }));
    const report = evaluateInvariants({ ...world, maxRedeliveries: 1 });
    expect(report.violations.map((v) => v.invariant)).toEqual(['nothing-after-terminal']);
    expect(report.redeliveries).toBe(1);
    // equal clocks are allowed
    world.requests[world.requests.length - 1]!.arrivedAt = T + 100;
    expect(evaluateInvariants({ ...world, maxRedeliveries: 1 }).violations).toEqual([]);
  });

  it('counts redeliveries, reports replays as prevented duplicates, and enforces the bound', () => {
    const world = consistentWorld();
    world.requests.splice(1, 0, request(`${A}:one`, { appliedEffect: false, replayed: true }));
    expect(evaluateInvariants({ ...world, maxRedeliveries: 1 })).toMatchObject({
      violations: [],
      redeliveries: 1,
      duplicatesPrevented: 1,
    });
    expect(invariantsOf(world)).toEqual(['*:bounded-redeliveries']);
  });

  it('catches an attempt recorded without its request, and a request done without a recorded attempt', () => {
    const world = consistentWorld();
    world.requests.splice(0, 1);
    world.requests.push(request(`${A}:two`, { attempt: 2, appliedEffect: false, arrivedAt: T }));
    expect(invariantsOf({ ...world, maxRedeliveries: 10 })).toEqual(['a:attempts-match-requests']);
    const messages = evaluateInvariants({ ...world, maxRedeliveries: 10 }).violations.map((v) => v.detail);
    expect(messages).toEqual([
      expect.stringContaining('never received it'),
      expect.stringContaining('no attempt was recorded'),
    ]);
  });

  it('accepts TEMPLATE_ERROR attempts without a request, and a parked item whose requests were never recorded', () => {
    const world = consistentWorld();
    world.snapshot.steps[4] = { ...world.snapshot.steps[4]!, attempts: 2 };
    world.snapshot.attempts.splice(
      5,
      0,
      attempt(B, 2, 'action', { attemptNo: 2, outcome: 'FAILED', httpStatus: null, error: { code: 'TEMPLATE_ERROR' } }),
    );
    expect(evaluateInvariants(world).violations).toEqual([]);
    world.requests.push(request(`${B}:ship`, { attempt: 2, appliedEffect: false, arrivedAt: T }));
    expect(invariantsOf({ ...world, maxRedeliveries: 5 })).toEqual(['b:attempts-match-requests']);

    const parked = consistentWorld();
    parked.requests.push(request(`${B}:ship`, { attempt: 2, appliedEffect: false, arrivedAt: T, abandoned: true }));
    parked.snapshot.outbox.push({
      runId: B,
      stepIndex: 2,
      kind: 'action',
      status: 'DEAD',
      lastError: { code: 'DELIVERY_EXHAUSTED' },
    });
    expect(evaluateInvariants({ ...parked, maxRedeliveries: 5 })).toMatchObject({
      violations: [],
      unrecorded: 1,
      redeliveries: 1,
      abandoned: 1,
    });
  });

  it('catches missing and unexpected effects, and an output that is not the effect’s answer', () => {
    const world = consistentWorld();
    world.effects.delete(`${A}:one`);
    world.effects.set(`${B}:ship`, { body: {} });
    world.snapshot.steps[1] = { ...world.snapshot.steps[1]!, output: { other: true } };
    expect(evaluateInvariants(world).violations.map((v) => v.detail)).toEqual([
      expect.stringContaining('applied no effect'),
      expect.stringContaining('output differs'),
      expect.stringContaining('is FAILED but its effect was applied'),
    ]);
  });

  it('counts duplicate effects by what a request says it is, so a key that changed between deliveries shows', () => {
    const world = consistentWorld();
    const identity = { runId: A, stepId: 'one', kind: 'action' };
    world.requests[0] = { ...world.requests[0]!, identity };
    world.requests.push(request(`${A}:one:retry-2`, { identity, arrivedAt: T }));
    const report = evaluateInvariants({ ...world, maxRedeliveries: 5 });
    expect(report.duplicateEffects).toBe(1);
    expect(report.violations.map((v) => v.invariant)).toEqual(expect.arrayContaining(['stable-key']));
  });

  it('catches a READY outbox item left for a terminal run, and attempt counters that disagree with the rows', () => {
    const world = consistentWorld();
    world.snapshot.outbox.push({ runId: A, stepIndex: 1, kind: 'action', status: 'READY', lastError: null });
    world.snapshot.steps[0] = { ...world.snapshot.steps[0]!, attempts: 2 };
    expect(invariantsOf(world)).toEqual(['a:attempts-recorded-once', 'a:nothing-claimable']);
  });
});

/** The world's history as the writer appends it (docs/contract.md#run-history). */
function withHistory(world: World): World {
  const failure = { code: 'STEP_FAILED', message: 'rejected', stepId: 'ship' };
  const none = { stepId: null, kind: null, attempt: null };
  const run = (runId: string, list: Array<Omit<EventRecord, 'runId' | 'seq'>>): EventRecord[] =>
    list.map((e, i) => ({ runId, seq: i + 1, ...e }));
  const created = { type: 'RUN_CREATED', ...none, data: {} };
  const status = (from: string, to: string, error: unknown) => ({
    type: 'RUN_STATUS_CHANGED',
    ...none,
    data: { from, to, error },
  });
  const finished = (stepId: string, kind: 'action' | 'compensation' = 'action') => ({
    type: 'ATTEMPT_FINISHED',
    stepId,
    kind,
    attempt: 1,
    data: {},
  });
  world.snapshot.events = [
    ...run(A, [
      created,
      status('PENDING', 'RUNNING', null),
      finished('one'),
      finished('two'),
      status('RUNNING', 'COMPLETED', null),
    ]),
    ...run(B, [
      created,
      status('PENDING', 'RUNNING', null),
      finished('book'),
      finished('pay'),
      finished('ship'),
      status('RUNNING', 'COMPENSATING', failure),
      finished('pay', 'compensation'),
      finished('book', 'compensation'),
      status('COMPENSATING', 'COMPENSATED', failure),
    ]),
  ];
  return world;
}

describe('invariant checker: history', () => {
  it('finds nothing wrong with a consistent history', () => {
    expect(evaluateInvariants(withHistory(consistentWorld())).violations).toEqual([]);
  });

  it('catches a gap in seq', () => {
    const world = withHistory(consistentWorld());
    world.snapshot.events = world.snapshot.events!.filter((e) => !(e.runId === A && e.seq === 3));
    expect(invariantsOf(world)).toEqual(['a:history-attempts', 'a:history-seq']);
  });

  it('catches an event for an attempt that was never committed, and a committed attempt without one', () => {
    const world = withHistory(consistentWorld());
    world.snapshot.events!.find((e) => e.runId === B && e.stepId === 'ship')!.attempt = 2;
    expect(invariantsOf(world)).toEqual(['b:history-attempts']);
  });

  it('replays pause and resume: a paused run, an unpaused one, and one left paused by a lost resume', () => {
    const world = withHistory(consistentWorld());
    const operator = (action: string) => ({
      type: 'OPERATOR_ACTION',
      stepId: null,
      kind: null,
      attempt: null,
      data: { action, reason: null, operationId: null },
    });
    const events = world.snapshot.events!;
    // run A: paused after its first step, resumed; run B: paused while its last attempt was in flight (terminal unpauses)
    const a = events.filter((e) => e.runId === A);
    const b = events.filter((e) => e.runId === B);
    const renumber = (list: Array<Omit<EventRecord, 'seq' | 'runId'>>, runId: string) =>
      list.map((e, i) => ({ ...e, runId, seq: i + 1 }));
    world.snapshot.events = [
      ...renumber([...a.slice(0, 3), operator('pause'), a[3]!, operator('resume'), a[4]!], A),
      ...renumber([...b.slice(0, 4), operator('pause'), ...b.slice(4)], B),
    ];
    world.snapshot.runs = world.snapshot.runs.map((r) => ({ ...r, paused: false }));
    expect(evaluateInvariants(world).violations).toEqual([]);

    world.snapshot.runs = world.snapshot.runs.map((r) => (r.id === A ? { ...r, paused: true } : r));
    expect(invariantsOf(world)).toEqual(['a:history-replay']);
    world.snapshot.runs = world.snapshot.runs.map((r) => ({ ...r, paused: false }));
    world.snapshot.events = world.snapshot.events.map((e) =>
      e.runId === A && e.data['action'] === 'resume' ? { ...e, data: { ...e.data, action: 'pause' } } : e,
    );
    expect(invariantsOf(world)).toEqual(['a:history-replay']);
  });

  it('catches a history that does not replay to the run status or its final error', () => {
    const world = withHistory(consistentWorld());
    world.snapshot.events!.at(-1)!.data = { from: 'COMPENSATING', to: 'FAILED', error: null };
    expect(invariantsOf(world)).toEqual(['b:history-replay']);
  });
});

describe('invariant checker: waits and signals', () => {
  const W = 'cccccccc-0000-4000-8000-000000000003';
  const SIGNAL = 'dddddddd-0000-7000-8000-000000000004';
  /** The consistent world plus run W: it waited for a signal sent before the wait began, then completed. */
  function withWait(): World {
    const world = withHistory(consistentWorld());
    world.snapshot.runs.push({ id: W, status: 'COMPLETED', error: null, cancelRequested: false, completedAt: T + 100 });
    world.snapshot.steps.push(step(W, 0, 'approve', { attempts: 0, output: { ok: true }, waited: true }));
    const e = (
      seq: number,
      type: string,
      data: Record<string, unknown>,
      stepId: string | null = null,
    ): EventRecord => ({
      runId: W,
      seq,
      type,
      stepId,
      kind: stepId ? 'action' : null,
      attempt: null,
      data,
    });
    world.snapshot.events!.push(
      e(1, 'RUN_CREATED', {}),
      e(2, 'SIGNAL_RECEIVED', { name: 'approval', signalId: SIGNAL }),
      e(3, 'RUN_STATUS_CHANGED', { from: 'PENDING', to: 'RUNNING', error: null }),
      e(4, 'STEP_WAITING', { waitFor: 'signal', until: new Date(T).toISOString() }, 'approve'),
      e(5, 'STEP_WOKEN', { cause: 'signal', signalId: SIGNAL }, 'approve'),
      e(6, 'RUN_STATUS_CHANGED', { from: 'RUNNING', to: 'COMPLETED', error: null }),
    );
    world.snapshot.signals = [{ id: SIGNAL, runId: W, name: 'approval', consumedBy: 'approve' }];
    return world;
  }

  it('finds nothing wrong with a wait woken by a signal received before it', () => {
    expect(evaluateInvariants(withWait()).violations).toEqual([]);
  });

  it('catches a wake without a wait, and a signal consumed without a wake naming it', () => {
    const world = withWait();
    world.snapshot.events = world.snapshot.events!.filter((x) => !(x.runId === W && x.type === 'STEP_WAITING'));
    world.snapshot.events.filter((x) => x.runId === W).forEach((x, i) => (x.seq = i + 1));
    expect(invariantsOf(world)).toEqual(['c:history-replay']);
    const unwoken = withWait();
    unwoken.snapshot.signals![0]!.consumedBy = 'other-step';
    expect(invariantsOf(unwoken)).toEqual(['c:history-signals']);
  });

  it('catches a signal that woke two steps, and a wake by a signal never received', () => {
    const world = withWait();
    world.snapshot.steps.push(step(W, 1, 'again', { attempts: 0, output: { ok: true }, waited: true }));
    const last = world.snapshot.events!.pop()!;
    world.snapshot.events!.push(
      {
        ...last,
        seq: 6,
        type: 'STEP_WAITING',
        stepId: 'again',
        kind: 'action',
        data: { waitFor: 'signal', until: '' },
      },
      {
        ...last,
        seq: 7,
        type: 'STEP_WOKEN',
        stepId: 'again',
        kind: 'action',
        data: { cause: 'signal', signalId: SIGNAL },
      },
      { ...last, seq: 8 },
    );
    expect(invariantsOf(world)).toEqual(['c:history-signals']);
    const never = withWait();
    never.snapshot.events = never.snapshot.events!.filter((x) => x.type !== 'SIGNAL_RECEIVED' || x.runId !== W);
    never.snapshot.events.filter((x) => x.runId === W).forEach((x, i) => (x.seq = i + 1));
    never.snapshot.signals = [];
    expect(invariantsOf(never)).toEqual(['c:history-signals']);
  });

  it('catches a woken step that did not end as its cause says', () => {
    const world = withWait();
    world.snapshot.events!.find((x) => x.runId === W && x.type === 'STEP_WOKEN')!.data = {
      cause: 'timeout',
      signalId: null,
    };
    world.snapshot.signals![0]!.consumedBy = null;
    expect(invariantsOf(world)).toEqual(['c:history-replay']);
  });
});
