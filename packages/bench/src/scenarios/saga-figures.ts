import { describeDistribution } from '../percentiles.js';
import type { PgCounterDelta } from '../pg-counters.js';
import type { ScenarioResult } from '../results.js';
import type { SubmittedRun } from '../submit-runs.js';
import type { RunRow } from '../verify-runs.js';

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Throughput, latency and per-step database figures of a finished saga scenario (pure). */
export function computeSagaFigures(
  submitted: readonly SubmittedRun[],
  runs: readonly RunRow[],
  attempts: number,
  delta: PgCounterDelta,
) {
  const finished = runs.filter((r): r is RunRow & { completedMs: number } => r.completedMs !== null);
  const firstCreated = Math.min(...runs.map((r) => r.createdMs));
  const lastCompleted = Math.max(...finished.map((r) => r.completedMs));
  const windowMs = lastCompleted - firstCreated;
  const accepted = new Map(submitted.map((s) => [s.runId, s.acceptedAt]));
  const outcomes: Record<string, number> = {};
  for (const run of runs) outcomes[run.status] = (outcomes[run.status] ?? 0) + 1;
  const perUnit = (n: number): number => round(n / attempts, 3);
  const figures: Pick<
    ScenarioResult,
    | 'unit'
    | 'runs'
    | 'units'
    | 'windowMs'
    | 'runsPerSecond'
    | 'unitsPerSecond'
    | 'latencyMs'
    | 'latencyFromAcceptedMs'
    | 'startResponseMs'
    | 'outcomes'
  > & { postgres: Omit<ScenarioResult['postgres'], 'server'> } = {
    unit: 'step',
    runs: runs.length,
    units: attempts,
    windowMs: round(windowMs),
    runsPerSecond: round((runs.length / windowMs) * 1000, 1),
    unitsPerSecond: round((attempts / windowMs) * 1000, 1),
    latencyMs: describeDistribution(finished.map((r) => r.completedMs - r.createdMs)),
    latencyFromAcceptedMs: describeDistribution(
      finished.filter((r) => accepted.has(r.id)).map((r) => r.completedMs - accepted.get(r.id)!),
    ),
    startResponseMs: describeDistribution(submitted.map((s) => s.acceptedAt - s.sentAt)),
    outcomes,
    postgres: {
      commits: delta.commits,
      commitsPerUnit: perUnit(delta.commits),
      rollbacks: delta.rollbacks,
      ...(delta.statements !== undefined
        ? {
            statements: delta.statements,
            statementsPerUnit: perUnit(delta.statements),
            nestedPerUnit: perUnit(delta.nestedStatements ?? 0),
          }
        : {}),
      ...(delta.topStatements
        ? {
            topStatements: delta.topStatements.slice(0, 25).map((s) => ({
              ...s,
              query: s.query.replace(/\s+/g, ' ').slice(0, 400),
              totalMs: round(s.totalMs),
              perUnit: perUnit(s.calls),
            })),
          }
        : {}),
    },
  };
  return figures;
}
