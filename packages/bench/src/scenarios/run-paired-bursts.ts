import type { BenchMonitor } from '../bench-monitor.js';
import { createJsonClient, type JsonClient } from '../http-client.js';
import { median } from '../percentiles.js';
import type { ScenarioResult } from '../results.js';
import type { HistoryCostScenario, SagaScenario, SleepingBurstScenario } from '../scenarios.js';
import type { ScenarioContext } from '../scenario-context.js';
import { budgetResult, openBudgetWindow } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';
import { BURST_IN_FLIGHT, measureBurst, warmUp, type BurstFigures } from './measure-burst.js';
import { runSagaScenario } from './run-saga-scenario.js';

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The "history off" of history-cost: every row inserted into run_events is dropped before it is stored, so the
 * statements that append history (start, claim, writer) still run, with their event rows, but store and index nothing.
 */
const DROP_HISTORY_SQL = `
  create function bench_drop_run_event() returns trigger language plpgsql as $$ begin return null; end $$;
  create trigger bench_drop_run_event before insert on run_events for each row execute function bench_drop_run_event()`;
const KEEP_HISTORY_SQL = `
  drop trigger bench_drop_run_event on run_events;
  drop function bench_drop_run_event()`;

async function historyRows(monitor: BenchMonitor, runIds: readonly string[]): Promise<number> {
  const [row] = await monitor.query<{ n: number }>(
    'select count(*)::int as n from run_events where run_id = any($1::uuid[])',
    [runIds],
  );
  return row?.n ?? 0;
}

/** Rounds of A then B, and a last A (alternatingBursts). */
const ROUNDS = 3;

interface AlternatingBursts {
  /** the bursts in condition A: ROUNDS + 1, one before and after each B */
  a: BurstFigures[];
  b: BurstFigures[];
  /** each B's steps/s over the mean of the two A's beside it */
  ratios: number[];
}

/**
 * (After the warm-up:) one unmeasured burst, then A, B, A, B, …, A. Two bursts in a row on one stack differ by up to a
 * quarter here (and later ones tend to run faster), so each B is compared with the mean of the A before and after
 * it, and a scenario reports the median of those ratios.
 */
async function alternatingBursts(
  ctx: ScenarioContext,
  label: string,
  client: JsonClient,
  monitor: BenchMonitor,
  spec: { burstRuns: number; timeoutMs: number },
  b: { enter: () => Promise<void>; leave: () => Promise<void> },
  describe: (inB: boolean, figures: BurstFigures) => Promise<string>,
): Promise<AlternatingBursts> {
  const priming = await measureBurst(client, monitor, spec.burstRuns, spec.timeoutMs);
  ctx.say(`${label}: priming burst (not measured) ${priming.stepsPerSecond} steps/s`);
  const a: BurstFigures[] = [];
  const bs: BurstFigures[] = [];
  for (let i = 0; i < 2 * ROUNDS + 1; i++) {
    const inB = i % 2 === 1;
    if (inB) await b.enter();
    const figures = await measureBurst(client, monitor, spec.burstRuns, spec.timeoutMs);
    ctx.say(`${label}: ${await describe(inB, figures)}`);
    if (inB) await b.leave();
    (inB ? bs : a).push(figures);
  }
  const ratios = bs.map((f, i) => f.stepsPerSecond / ((a[i]!.stepsPerSecond + a[i + 1]!.stepsPerSecond) / 2));
  return { a, b: bs, ratios };
}

const sumOf = (bursts: readonly BurstFigures[], pick: (f: BurstFigures) => number): number =>
  bursts.reduce((sum, f) => sum + pick(f), 0);

/**
 * SPEC §18: history costs at most 10 % of burst throughput and adds no commit to a step's critical path. Bursts of the
 * bench saga on one stack (alternatingBursts): history stored, history dropped (a BEFORE INSERT trigger on run_events
 * returns null: no row, no index entry, no WAL for it), stored, …; the cost is 1 − the median of stored / dropped. What
 * stays in the dropped burst: planning the events, sending them and the run row's event_seq. So this measures what
 * storing history costs; session 6 measured the whole switch once, by hand (docs/performance.md#history-on-against-off-burst).
 */
export async function runHistoryCost(ctx: ScenarioContext, spec: HistoryCostScenario): Promise<ScenarioResult> {
  return onFreshStack(ctx, spec.name, { engines: ctx.engines, withEngines: true }, async (run) => {
    const { label, stack } = run;
    const monitor = run.monitor();
    const client = createJsonClient(stack.apiUrl, 32);
    try {
      await warmUp(client, monitor, ctx.warmup);
      const window = await openBudgetWindow(stack);
      const rows = new Map<BurstFigures, number>();
      const {
        a: stored,
        b: dropped,
        ratios,
      } = await alternatingBursts(
        ctx,
        label,
        client,
        monitor,
        spec,
        {
          enter: () => monitor.query(DROP_HISTORY_SQL).then(() => undefined),
          leave: () => monitor.query(KEEP_HISTORY_SQL).then(() => undefined),
        },
        async (inB, figures) => {
          rows.set(figures, await historyRows(monitor, figures.runIds));
          return `history ${inB ? 'dropped' : 'stored'}: ${figures.stepsPerSecond} steps/s, ${figures.writeTransactionsPerStep} write transactions/step, ${rows.get(figures)} history rows`;
        },
      );
      const problems: string[] = [];
      for (const b of dropped)
        if (rows.get(b) !== 0) problems.push(`a burst with history dropped stored ${rows.get(b)} history rows`);
      for (const b of stored)
        if ((rows.get(b) ?? 0) < b.runs * 2)
          problems.push(`a burst with history stored only ${rows.get(b)} history rows`);
      const all = [...stored, ...dropped];
      return await budgetResult(ctx, spec, run, window, {
        units: all.reduce((sum, f) => sum + f.attempts, 0),
        runs: all.reduce((sum, f) => sum + f.runs, 0),
        problems,
        budget: {
          kind: 'history-cost',
          burstRuns: spec.burstRuns,
          onStepsPerSecond: stored.map((f) => f.stepsPerSecond),
          offStepsPerSecond: dropped.map((f) => f.stepsPerSecond),
          // a stored burst's throughput / a dropped one's = 1 / ratio
          costPercent: round((1 - 1 / median(ratios)) * 100),
          writeTransactionsPerStep: {
            on: round(sumOf(stored, (f) => f.writeTransactionsPerStep) / stored.length, 3),
            off: round(sumOf(dropped, (f) => f.writeTransactionsPerStep) / dropped.length, 3),
          },
        },
      });
    } finally {
      client.close();
    }
  });
}

/**
 * SPEC §18: a sleeping or waiting run costs no engine memory; 100,000 runs waiting at once leave burst throughput of
 * the others unchanged (± 10 %). `pairs` pairs of bursts, order alternating, each on a fresh database and fresh
 * services as `burst` (runSagaScenario): one with no sleeping run, one with `sleepingRuns` runs sleeping for a year
 * filled in before its warm-up (fill-sleeping.ts: what the product leaves for a run that began to sleep, then VACUUM
 * ANALYZE). The change is the median over the pairs of with / alone; the engine's peak RSS of each. (Alternating on one
 * stack does not work: deleting 100,000 runs to go back to none leaves bloated tables and slowed the bursts after it
 * by a quarter.)
 */
export async function runSleepingBurst(ctx: ScenarioContext, spec: SleepingBurstScenario): Promise<ScenarioResult> {
  const burst: SagaScenario = {
    kind: 'saga',
    name: spec.name,
    runs: spec.burstRuns,
    submit: { mode: 'closed', inFlight: BURST_IN_FLIGHT },
    timeoutMs: spec.timeoutMs,
  };
  const alone: ScenarioResult[] = [];
  const withSleeping: ScenarioResult[] = [];
  for (let pair = 0; pair < spec.pairs; pair++) {
    for (const sleeping of pair % 2 === 0 ? [0, spec.sleepingRuns] : [spec.sleepingRuns, 0]) {
      const iteration = ctx.iteration * 100 + alone.length + withSleeping.length + 1;
      const result = await runSagaScenario({ ...ctx, sleeping, iteration }, burst);
      ctx.say(
        `${spec.name}-${iteration}: ${sleeping ? `with ${sleeping} sleeping` : 'alone'}: ` +
          (result.ok
            ? `${result.unitsPerSecond} steps/s, engine peak RSS ${result.peakRssMb.engines.map((n) => round(n)).join(' + ')} MB`
            : `FAILED: ${result.problems.join('; ')}`),
      );
      (sleeping ? withSleeping : alone).push(result);
    }
  }
  const all = [...alone, ...withSleeping];
  const ratios = withSleeping.map((r, i) => r.unitsPerSecond / alone[i]!.unitsPerSecond);
  const engineRss = (r: ScenarioResult): number => round(r.peakRssMb.engines.reduce((x, y) => x + y, 0));
  // the common fields (CPU, Postgres, peaks, log folder) are the first burst's; its per-run figures describe one burst
  // of several and are left out: each burst's steps/s and engine peak are in the budget figures
  const first: ScenarioResult = { ...all[0]! };
  delete first.latencyMs;
  delete first.latencyFromAcceptedMs;
  delete first.startResponseMs;
  delete first.stepPhases;
  delete first.windowPeakRssMb;
  return {
    ...first,
    scenario: spec.name,
    iteration: ctx.iteration,
    ok: all.every((r) => r.ok),
    problems: all.flatMap((r) => r.problems),
    warnings: all.flatMap((r) => r.warnings),
    runs: all.reduce((sum, r) => sum + r.runs, 0),
    units: all.reduce((sum, r) => sum + r.units, 0),
    budget: {
      kind: 'sleeping-burst',
      sleepingRuns: spec.sleepingRuns,
      burstRuns: spec.burstRuns,
      aloneStepsPerSecond: alone.map((r) => r.unitsPerSecond),
      withStepsPerSecond: withSleeping.map((r) => r.unitsPerSecond),
      changePercent: round((median(ratios) - 1) * 100),
      engineRssMb: { alone: alone.map(engineRss), with: withSleeping.map(engineRss) },
    },
  };
}
