import type { Db } from '@sagaflow/db';
import { checkDeliveries } from './delivery-checks.js';
import { checkHistory } from './history-checks.js';
import { checkWaits } from './wait-checks.js';
import { loadSnapshot } from './load-snapshot.js';
import { checkRun } from './run-checks.js';
import type { EffectRecord, InvariantReport, RequestRecord, Snapshot, Violation } from './types.js';

export interface InvariantInput {
  snapshot: Snapshot;
  requests: readonly RequestRecord[];
  effects: ReadonlyMap<string, EffectRecord>;
  /** runs a client was promised (it got a 202 with this id): each must exist and be terminal */
  promisedRunIds?: readonly string[];
  /** the most redeliveries the scenario's faults can explain (0 when nothing crashed) */
  maxRedeliveries: number;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Effects applied more than once for the same run, step and kind: what a key that changed between deliveries causes. */
export function countDuplicateEffects(requests: readonly RequestRecord[]): number {
  const applied = groupBy(
    requests.filter((r) => r.appliedEffect),
    (r) => (r.identity ? `${r.identity.runId}:${r.identity.stepId}:${r.identity.kind}` : r.key),
  );
  return [...applied.values()].filter((list) => list.length > 1).length;
}

/** Every docs/contract.md#delivery-guarantees invariant over a snapshot and the downstream's log. Pure. */
export function evaluateInvariants(input: InvariantInput): InvariantReport {
  const { snapshot } = input;
  const steps = groupBy(snapshot.steps, (s) => s.runId);
  const attempts = groupBy(snapshot.attempts, (a) => a.runId);
  const outbox = groupBy(snapshot.outbox, (o) => o.runId);
  const events = snapshot.events ? groupBy(snapshot.events, (e) => e.runId) : undefined;
  const signals = snapshot.signals ? groupBy(snapshot.signals, (s) => s.runId) : undefined;
  const violations: Violation[] = [];
  const byStatus: Record<string, number> = {};
  for (const run of snapshot.runs) {
    byStatus[run.status] = (byStatus[run.status] ?? 0) + 1;
    const runSteps = (steps.get(run.id) ?? []).sort((a, b) => a.index - b.index);
    violations.push(...checkRun(run, runSteps, attempts.get(run.id) ?? [], outbox.get(run.id) ?? []));
    if (events) {
      const history = events.get(run.id) ?? [];
      violations.push(...checkHistory(run, runSteps, attempts.get(run.id) ?? [], history));
      violations.push(...checkWaits(run, runSteps, history, signals ? (signals.get(run.id) ?? []) : undefined));
    }
  }
  const known = new Set(snapshot.runs.map((r) => r.id));
  const missing = (input.promisedRunIds ?? []).filter((id) => !known.has(id));
  for (const runId of missing)
    violations.push({ runId, invariant: 'no-lost-run', detail: 'a client got 202 for this run but it does not exist' });
  const unfinished = violations.filter((v) => v.invariant === 'terminal').length;

  const delivery = checkDeliveries({
    snapshot,
    requests: input.requests,
    effects: input.effects,
    maxRedeliveries: input.maxRedeliveries,
  });
  violations.push(...delivery.violations);
  return {
    runs: snapshot.runs.length,
    byStatus,
    lostRuns: missing.length + unfinished,
    requests: input.requests.length,
    attempts: snapshot.attempts.length,
    effects: input.effects.size,
    redeliveries: delivery.redeliveries,
    unrecorded: delivery.unrecorded,
    duplicatesPrevented: input.requests.filter((r) => r.replayed).length,
    abandoned: input.requests.filter((r) => r.abandoned).length,
    duplicateEffects: countDuplicateEffects(input.requests),
    violations,
  };
}

/** Loads the database's rows and evaluates every invariant against the downstream's log. */
export async function checkInvariants(db: Db, downstream: Omit<InvariantInput, 'snapshot'>): Promise<InvariantReport> {
  return evaluateInvariants({ ...downstream, snapshot: await loadSnapshot(db) });
}

/** A readable list of violations (the first `limit`), for assertion messages. */
export function formatViolations(report: InvariantReport, limit = 20): string {
  const lines = report.violations.slice(0, limit).map((v) => `  run ${v.runId}: [${v.invariant}] ${v.detail}`);
  const more = report.violations.length > limit ? `\n  … and ${report.violations.length - limit} more` : '';
  return `${report.violations.length} invariant violation(s):\n${lines.join('\n')}${more}`;
}
