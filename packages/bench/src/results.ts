import type { HistoryFill } from './fill-history.js';
import type { Distribution } from './percentiles.js';
import type { StatementCount } from './pg-counters.js';
import type { ScenarioName } from './scenarios.js';
import type { StepPhases } from './scenario-reads.js';
import type { AllocSummary } from './summarize-alloc-profile.js';
import type { ProfileSummary } from './summarize-profile.js';

/** The figures of one scenario run (one iteration), as written to results.json. */
export interface ScenarioResult {
  scenario: ScenarioName;
  iteration: number;
  engines: number;
  ok: boolean;
  problems: string[];
  warnings: string[];
  startedAt: string;
  /** --history: the completed runs filled in before the warm-up (not among the measured runs) and how long that took */
  history?: HistoryFill;
  /** 1/5/15-minute load average of the machine just before the measurement (other work competes for the 2 cores) */
  loadAverage: number[];
  /** what "per step" means for this scenario: step attempts, or (start-rate) starts */
  unit: 'step' | 'start';
  runs: number;
  /** step attempts (actions + compensations) of the measured runs; starts for start-rate */
  units: number;
  /** first created_at → last completed_at (saga scenarios), autocannon's duration (start-rate) */
  windowMs: number;
  runsPerSecond: number;
  unitsPerSecond: number;
  /** created_at → completed_at of each run (both Postgres clock) */
  latencyMs?: Distribution;
  /** client-side 202 received → completed_at (same host clock) */
  latencyFromAcceptedMs?: Distribution;
  /** client-side time of the start request (sent → 202 received) */
  startResponseMs?: Distribution;
  /** median phases of each step of the completed runs (saga scenarios) */
  stepPhases?: StepPhases[];
  autocannon?: {
    requestsPerSecond: number;
    p50: number;
    p90: number;
    p97_5: number;
    p99: number;
    max: number;
    non2xx: number;
    errors: number;
    total2xx: number;
  };
  outcomes: Record<string, number>;
  /** VmHWM over each process's life (warm-up included) */
  peakRssMb: { api: number; engines: number[]; downstream?: number };
  /** VmHWM of the measured window only (reset when it began); saga scenarios */
  windowPeakRssMb?: { api: number; engines: number[] };
  /** CPU seconds spent by each process during the measurement; machineBusy/machineTotal: all processes, all cores */
  cpuSeconds: {
    api: number;
    engines: number[];
    downstream: number;
    postgres: number;
    bench: number;
    machineBusy: number;
    machineTotal: number;
  };
  /** share of the cores busy with other work (other processes than the bench's) during the measurement, 0..1 */
  otherLoad: number;
  postgres: {
    server: string;
    commits: number;
    commitsPerUnit: number;
    rollbacks: number;
    /** top-level statements (round trips) */
    statements?: number;
    statementsPerUnit?: number;
    /** statements run inside them (foreign-key checks) */
    nestedPerUnit?: number;
    topStatements?: Array<StatementCount & { perUnit: number }>;
  };
  downstream?: { counts: Record<string, number>; duplicateKeys: number };
  outbox?: Record<string, number>;
  profiles?: Array<{ file: string; summary: ProfileSummary }>;
  /** --alloc-profile: what API and engines allocated during the window, by function */
  allocProfiles?: Array<{ file: string; summary: AllocSummary }>;
  /** the run history budget scenarios (events-read, sse-delay, sse-memory): their own figures */
  budget?: BudgetFigures;
  logDir: string;
}

/** What a run history budget scenario measured (SPEC §18). */
export type BudgetFigures =
  | {
      kind: 'events-read';
      /** completed runs stored (each with its six events) */
      storedRuns: number;
      requests: number;
      inFlight: number;
      requestsPerSecond: number;
      /** client side: request sent → whole answer read */
      responseMs: Distribution;
    }
  | {
      kind: 'sse-delay';
      streams: number;
      /** events that arrived live (their `at` after the stream's 200): the ones measured */
      liveEvents: number;
      /** events replayed from history when the stream opened (committed before it): not measured */
      replayedEvents: number;
      /** the event's `at` (clock_timestamp() of its insert, so before its commit) → its frame read by the client */
      delayMs: Distribution;
    }
  | {
      kind: 'sse-memory';
      streams: number;
      holdMs: number;
      /** API VmRSS just before the streams opened, the highest while all were open, after they ended */
      rssMb: { before: number; openPeak: number; after: number; growth: number };
      /** V8 heap used (nodejs_heap_size_used_bytes) likewise */
      heapMb: { before: number; openPeak: number; after: number; growth: number };
      /** the API's run_event_streams_open / run_event_waits with all streams open, and after they ended */
      gauges: { open: { streams: number; waits: number }; after: { streams: number; waits: number } };
      /** opening all of them (each until its RUN_CREATED arrived) */
      openMs: number;
      /** then every run cancelled: `at` → arrival of those live events on the open streams */
      cancelDelayMs: Distribution;
    }
  | {
      kind: 'history-cost';
      burstRuns: number;
      /** the bursts with history stored (one before and after each without), steps/s */
      onStepsPerSecond: number[];
      /** the bursts with history rows dropped by a trigger */
      offStepsPerSecond: number[];
      /** 1 − the median over the dropped bursts of (mean of the stored bursts beside it) / it, % */
      costPercent: number;
      /** transaction ids assigned per step attempt (write transactions), with history (mean) and without */
      writeTransactionsPerStep: { on: number; off: number };
    }
  | {
      kind: 'search';
      /** completed runs stored (2 % of them FAILED) */
      storedRuns: number;
      /** measured requests per query (after 20 of warm-up) */
      requests: number;
      /** client side: request sent → whole answer read, sequential */
      queries: Array<{
        query: string;
        endpoint: '/v1/runs' | '/v1/runs/counts';
        budgetMs: number;
        p50: number;
        p99: number;
        max: number;
        meanResults: number;
      }>;
    }
  | {
      kind: 'sleeping-burst';
      sleepingRuns: number;
      burstRuns: number;
      /** each pair's burst on a fresh database with no sleeping run, and with them */
      aloneStepsPerSecond: number[];
      withStepsPerSecond: number[];
      /** the median over the pairs of with / alone − 1, % */
      changePercent: number;
      /** the engines' peak RSS (VmHWM) in each burst */
      engineRssMb: { alone: number[]; with: number[] };
    }
  | {
      kind: 'bulk-redrive';
      failedRuns: number;
      ratePerSecond: number;
      /** starting the FAILED runs through the API until all had failed (not measured against a budget) */
      seedMs: number;
      /** the operation's created_at → finished_at (COMPLETED) */
      operationMs: number;
      redriven: number;
      skipped: number;
      failed: number;
      burstRuns: number;
      /** step attempts / (first created → last completed) of the burst alone, then started with the operation */
      aloneStepsPerSecond: number;
      duringStepsPerSecond: number;
      burstDropPercent: number;
      /** the share of the concurrent burst's window during which the operation ran */
      overlapPercent: number;
    };
