import { setTimeout as delay } from 'node:timers/promises';
import { createJsonClient, type JsonClient } from '../http-client.js';
import { describeDistribution } from '../percentiles.js';
import type { ScenarioResult } from '../results.js';
import type { SseDelayScenario } from '../scenarios.js';
import { beforeDeadline, type ScenarioContext } from '../scenario-context.js';
import { waitForTerminalRuns } from '../scenario-reads.js';
import { openEventStream, type ArrivedFrame } from '../sse-client.js';
import { submitClosedLoop, submitRun } from '../submit-runs.js';
import type { RunPhase } from '../workload.js';
import { budgetResult, openBudgetWindow } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_IN_FLIGHT = 16;
const WARMUP_STREAMS = 40;
const STREAM_TIMEOUT_MS = 60_000;
const round = (n: number): number => Math.round(n * 100) / 100;

interface WatchedRun {
  runId: string;
  openedAt: number;
  frames: ArrivedFrame[];
}

/** Starts `count` runs at `perSecond`; each run's stream is opened as soon as its start answers, and read to its end. */
async function startAndWatch(
  client: JsonClient,
  apiUrl: string,
  phase: RunPhase,
  count: number,
  perSecond: number,
): Promise<WatchedRun[]> {
  const intervalMs = 1000 / perSecond;
  const startedAt = performance.now();
  const watching: Promise<WatchedRun>[] = [];
  for (let seq = 0; seq < count; seq++) {
    const due = startedAt + seq * intervalMs - performance.now();
    if (due > 0) await delay(due);
    watching.push(
      submitRun(client, phase, seq).then(async ({ runId }) => {
        const stream = openEventStream(apiUrl, runId, STREAM_TIMEOUT_MS);
        const frames = await stream.done;
        return { runId, openedAt: await stream.openedAt, frames };
      }),
    );
  }
  return Promise.all(watching);
}

/** The delivery delays of the events that arrived live, the count replayed, and what is wrong with the streams. */
function measureDelivery(watched: readonly WatchedRun[], expectedEvents: number) {
  const delays: number[] = [];
  let replayed = 0;
  const problems: string[] = [];
  for (const run of watched) {
    const events = run.frames.filter((f) => f.type !== 'end');
    const seqs = events.map((f) => f.seq);
    if (run.frames.at(-1)?.type !== 'end') problems.push(`stream of ${run.runId} did not end with event: end`);
    if (seqs.length !== expectedEvents || seqs.some((seq, i) => seq !== i + 1))
      problems.push(`stream of ${run.runId} delivered seqs ${seqs.join(',')}`);
    for (const event of events) {
      // committed before the stream answered: replayed from history, not a live delivery
      if (event.atMs === undefined || event.atMs < run.openedAt) replayed++;
      else delays.push(event.arrivedAt - event.atMs);
    }
  }
  return { delays, replayed, problems };
}

/**
 * SPEC §18: an SSE stream delivers an event ≤ 100 ms after its commit. Runs are offered at a steady rate (open loop,
 * below capacity), one stream per run opened when its start answers; the downstream takes 50 ms per call, so a run
 * lasts ≈ 150 ms and most of its events commit after its stream opened; for every event that arrives live (its `at` after
 * the stream's 200), the delay is arrival − `at`. `at` is the clock_timestamp() of the event's insert, a little before
 * its commit, so the figure is an upper bound of commit → arrival (and `at` is cut to the ms: up to 1 ms more).
 */
export async function runSseDelay(ctx: ScenarioContext, spec: SseDelayScenario): Promise<ScenarioResult> {
  const choice = { engines: ctx.engines, withEngines: true, downstreamDelayMs: spec.downstreamDelayMs };
  return onFreshStack(ctx, spec.name, choice, async (run) => {
    const { label, stack } = run;
    const monitor = run.monitor();
    const client = createJsonClient(stack.apiUrl, 32);
    try {
      if (ctx.warmup > 0) {
        const warmup = await submitClosedLoop(client, 'warmup', ctx.warmup, WARMUP_IN_FLIGHT);
        await waitForTerminalRuns(
          monitor,
          'warmup',
          warmup.map((s) => s.runId),
          60_000,
        );
        await startAndWatch(client, stack.apiUrl, 'warmup', WARMUP_STREAMS, spec.perSecond * 2);
      }
      ctx.say(`${label}: ${spec.runs} runs at ${spec.perSecond} runs/s, one stream each`);
      const window = await openBudgetWindow(stack);
      const watched = await beforeDeadline(
        startAndWatch(client, stack.apiUrl, 'measure', spec.runs, spec.perSecond),
        Date.now() + spec.timeoutMs,
        `${label}: watching`,
      );
      const { delays, replayed, problems } = measureDelivery(watched, 6);
      const delayMs = describeDistribution(delays);
      ctx.say(
        `${label}: ${delays.length} live events, delay p50 ${round(delayMs.p50)} ms, p99 ${round(delayMs.p99)} ms (${replayed} replayed)`,
      );
      return await budgetResult(ctx, spec, run, window, {
        units: delays.length,
        runs: watched.length,
        problems: problems.slice(0, 10),
        budget: {
          kind: 'sse-delay',
          streams: watched.length,
          liveEvents: delays.length,
          replayedEvents: replayed,
          delayMs,
        },
      });
    } finally {
      client.close();
    }
  });
}
