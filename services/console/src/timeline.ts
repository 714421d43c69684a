/**
 * The run timeline (docs/console.md#run): the run's history and its current view turned into lanes — one per step
 * action, then one per compensation in the order they ran — of attempt bars and labelled gaps. Pure: the page draws
 * what this returns, and test/timeline.test.ts checks it.
 */

export type Outcome = 'SUCCEEDED' | 'RETRYABLE' | 'FAILED' | 'RUNNING';
export type GapCause = 'backoff' | 'retry-after' | 'signal' | 'sleep' | 'paused';
export type LaneKind = 'action' | 'compensation';

/** The parts of a history event the timeline reads (the SDK's RunEvent has these). */
export interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  stepId: string | null;
  kind: LaneKind | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

/** The parts of a step of `GET /v1/runs/{id}` the timeline reads. */
export interface TimelineStep {
  stepId: string;
  status: string;
  compensationStatus: string;
  startedAt: string | null;
  nextAttemptAt: string | null;
}

export interface Bar {
  attempt: number;
  outcome: Outcome;
  httpStatus: number | null;
  /** epoch ms */
  start: number;
  end: number;
  durationMs: number;
  error: string | null;
}

export interface Gap {
  cause: GapCause;
  start: number;
  end: number;
  /** still going on (the end is now) */
  open: boolean;
}

export interface Lane {
  key: string;
  stepId: string;
  kind: LaneKind;
  /** the X-Idempotency-Key the downstream sees for this lane's requests (SPEC §3) */
  idempotencyKey: string;
  bars: Bar[];
  gaps: Gap[];
}

export interface Timeline {
  lanes: Lane[];
  /** epoch ms of the first and last thing drawn */
  start: number;
  end: number;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

function errorText(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return [str(code), str(message)].filter(Boolean).join(': ') || null;
}

/** `retry-after` when the attempt's error says the wait came from the response's Retry-After, else backoff. */
function retryCause(error: unknown): GapCause {
  return error !== null && typeof error === 'object' && 'retryAfterMs' in error ? 'retry-after' : 'backoff';
}

/**
 * `now`: the time the open bars and waits run to. `endedAt`: the run is terminal since then — nothing it was waiting
 * for (a retry due later, a signal, a sleep) goes on after it, so every gap is cut there.
 */
export function buildTimeline(
  runId: string,
  events: readonly TimelineEvent[],
  steps: readonly TimelineStep[],
  now: number,
  endedAt?: number,
): Timeline {
  const lanes = new Map<string, Lane>();
  const laneOf = (stepId: string, kind: LaneKind): Lane => {
    const key = `${kind}:${stepId}`;
    let lane = lanes.get(key);
    if (!lane) {
      const idempotencyKey = kind === 'action' ? `${runId}:${stepId}` : `${runId}:${stepId}:compensate`;
      lane = { key, stepId, kind, idempotencyKey, bars: [], gaps: [] };
      lanes.set(key, lane);
    }
    return lane;
  };
  // the action lanes in definition order, even before their first attempt
  for (const step of steps) laneOf(step.stepId, 'action');

  /** a retry gap waiting for the lane's next bar (closed when it starts) */
  const pendingRetry = new Map<string, Gap>();
  const waiting = new Map<string, Gap>();
  let paused: Gap | undefined;
  const pausedGaps: Gap[] = [];
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const see = (t: number): void => {
    if (t < start) start = t;
    if (t > end) end = t;
  };

  for (const event of events) {
    const at = Date.parse(event.at);
    see(at);
    const { data } = event;
    if (event.type === 'ATTEMPT_FINISHED' && event.stepId && event.kind) {
      const lane = laneOf(event.stepId, event.kind);
      const durationMs = num(data['durationMs']) ?? 0;
      const began = Date.parse(str(data['startedAt']) ?? event.at);
      const outcome = (str(data['outcome']) ?? 'FAILED') as Outcome;
      const retry = pendingRetry.get(lane.key);
      if (retry) {
        retry.end = Math.max(retry.start, began);
        retry.open = false;
        pendingRetry.delete(lane.key);
      }
      lane.bars.push({
        attempt: event.attempt ?? lane.bars.length + 1,
        outcome,
        httpStatus: num(data['httpStatus']),
        start: began,
        end: began + durationMs,
        durationMs,
        error: errorText(data['error']),
      });
      see(began);
      see(began + durationMs);
      const next = str(data['nextAttemptAt']);
      if (outcome === 'RETRYABLE' && next) {
        const gap: Gap = {
          cause: retryCause(data['error']),
          start: began + durationMs,
          end: Date.parse(next),
          open: true,
        };
        lane.gaps.push(gap);
        pendingRetry.set(lane.key, gap);
        see(gap.end);
      }
    } else if (event.type === 'STEP_WAITING' && event.stepId) {
      const lane = laneOf(event.stepId, 'action');
      const gap: Gap = { cause: data['waitFor'] === 'sleep' ? 'sleep' : 'signal', start: at, end: now, open: true };
      lane.gaps.push(gap);
      waiting.set(lane.key, gap);
    } else if (event.type === 'STEP_WOKEN' && event.stepId) {
      const gap = waiting.get(`action:${event.stepId}`);
      if (gap) {
        gap.end = at;
        gap.open = false;
        waiting.delete(`action:${event.stepId}`);
      }
    } else if (event.type === 'OPERATOR_ACTION') {
      if (data['action'] === 'pause' && !paused) {
        paused = { cause: 'paused', start: at, end: now, open: true };
        pausedGaps.push(paused);
      } else if (data['action'] === 'resume' && paused) {
        paused.end = at;
        paused.open = false;
        paused = undefined;
      }
    } else if (event.type === 'RUN_STATUS_CHANGED' && paused) {
      const to = str(data['to']);
      if (to && ['COMPLETED', 'FAILED', 'COMPENSATED', 'CANCELLED'].includes(to)) {
        paused.end = at;
        paused.open = false;
        paused = undefined;
      }
    }
  }

  // what is running now: a bar that grows until its result commits
  for (const step of steps) {
    const running: Array<[LaneKind, string]> = [];
    if (step.status === 'RUNNING' && !waiting.has(`action:${step.stepId}`)) running.push(['action', step.stepId]);
    if (step.compensationStatus === 'RUNNING') running.push(['compensation', step.stepId]);
    for (const [kind, stepId] of running) {
      const lane = laneOf(stepId, kind);
      const retry = pendingRetry.get(lane.key);
      const dueAt = retry ? retry.end : Number.NEGATIVE_INFINITY;
      if (retry && dueAt > now) continue; // waiting for its retry: the gap shows it
      const began = Math.max(retry ? dueAt : step.startedAt ? Date.parse(step.startedAt) : now, start);
      if (retry) {
        retry.open = false;
        pendingRetry.delete(lane.key);
      }
      lane.bars.push({
        attempt: lane.bars.length + 1,
        outcome: 'RUNNING',
        httpStatus: null,
        start: Math.min(began, now),
        end: now,
        durationMs: Math.max(0, now - began),
        error: null,
      });
      see(now);
    }
  }
  for (const gap of [...waiting.values(), ...pausedGaps]) if (gap.open) see(now);

  // paused time shows on every lane that was not finished then
  const ordered = [...lanes.values()];
  if (pausedGaps.length > 0) {
    for (const lane of ordered.filter((l) => l.kind === 'action')) lane.gaps.push(...pausedGaps.map((g) => ({ ...g })));
  }
  // compensations after the actions, in the order they first ran
  const actions = ordered.filter((lane) => lane.kind === 'action');
  const compensations = ordered
    .filter((lane) => lane.kind === 'compensation')
    .sort((a, b) => (a.bars[0]?.start ?? Infinity) - (b.bars[0]?.start ?? Infinity));
  if (!Number.isFinite(start)) start = end = now;
  if (endedAt !== undefined) {
    // the gaps only: an attempt's bar keeps its recorded duration (the engine's clock may run a little ahead)
    for (const gap of ordered.flatMap((lane) => lane.gaps)) {
      if (gap.end > endedAt) gap.end = Math.max(gap.start, endedAt);
      gap.open = false;
    }
    end = Math.max(start, Math.min(end, Math.max(endedAt, ...ordered.flatMap((l) => l.bars.map((b) => b.end)))));
  }
  return { lanes: [...actions, ...compensations], start, end: Math.max(end, start + 1) };
}

/** `1.2 s`, `340 ms`, `2 min 5 s`: short, for bar labels and gaps. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d`;
}

export const GAP_LABEL: Record<GapCause, string> = {
  backoff: 'backoff',
  'retry-after': 'Retry-After',
  signal: 'waiting for a signal',
  sleep: 'sleeping',
  paused: 'paused',
};
