import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@sagaflow/testkit';
import { createJsonClient, type JsonClient } from '../http-client.js';
import { describeDistribution } from '../percentiles.js';
import type { ScenarioResult } from '../results.js';
import type { SseMemoryScenario } from '../scenarios.js';
import type { ScenarioContext } from '../scenario-context.js';
import { openEventStream, type EventStream } from '../sse-client.js';
import { submitClosedLoop } from '../submit-runs.js';
import { budgetResult, openBudgetWindow, readApiGauges } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_STREAMS = 50;
const IN_FLIGHT = 16;
const OPEN_AT_ONCE = 25;
const STREAM_TIMEOUT_MS = 120_000;
const GAUGES = ['run_event_streams_open', 'run_event_waits', 'nodejs_heap_size_used_bytes'] as const;
const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Opens a stream per run, `OPEN_AT_ONCE` at a time, each until its first event (RUN_CREATED) has arrived: the stream
 * then waits, live. (All 500 at the same instant would queue 500 history reads on the API's pool of 10 connections.)
 */
async function openStreams(apiUrl: string, runIds: readonly string[]): Promise<EventStream[]> {
  const streams: EventStream[] = [];
  try {
    for (let i = 0; i < runIds.length; i += OPEN_AT_ONCE) {
      const batch = runIds.slice(i, i + OPEN_AT_ONCE).map((runId) => openEventStream(apiUrl, runId, STREAM_TIMEOUT_MS));
      streams.push(...batch);
      await Promise.all(batch.map((s) => s.firstFrame));
    }
  } catch (error) {
    for (const stream of streams) stream.close();
    throw error;
  }
  return streams;
}

async function memory(ctx: { apiUrl: string; rss: () => Promise<number> }) {
  const gauges = await readApiGauges(ctx.apiUrl, GAUGES);
  return {
    rssMb: round(await ctx.rss()),
    heapMb: mb(gauges.nodejs_heap_size_used_bytes),
    streams: gauges.run_event_streams_open,
    waits: gauges.run_event_waits,
  };
}

async function cancelAll(client: JsonClient, runIds: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runIds.length) {
      const runId = runIds[next++]!;
      const response = await client.post(`/v1/runs/${runId}/cancel`, {});
      if (response.status >= 300) throw new Error(`cancel of ${runId}: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/**
 * SPEC §18: 500 open SSE streams on one API cost ≤ 100 MB. The API alone (no engine: the runs stay PENDING, so their
 * streams stay open and wait), 50 streams opened and closed as a warm-up; then the API's RSS (VmRSS) and V8 heap used
 * are read, `streams` streams opened (25 at a time, each until its first event) and held `holdMs` (past a 15 s ping),
 * sampled every second; the growth is the highest sample minus the one before. Then every run is cancelled: each open stream must deliver CANCEL_REQUESTED and
 * RUN_STATUS_CHANGED live and end, and the API's stream and wait gauges must fall back to 0.
 */
export async function runSseMemory(ctx: ScenarioContext, spec: SseMemoryScenario): Promise<ScenarioResult> {
  return onFreshStack(ctx, spec.name, { engines: 0, withEngines: false }, async (run) => {
    const { label, stack } = run;
    const client = createJsonClient(stack.apiUrl, IN_FLIGHT);
    const probe = { apiUrl: stack.apiUrl, rss: async () => (await stack.api.memory()).rssMb };
    const problems: string[] = [];
    let streams: EventStream[] = [];
    try {
      const runIds = (await submitClosedLoop(client, 'measure', spec.streams + WARMUP_STREAMS, IN_FLIGHT)).map(
        (s) => s.runId,
      );
      const warm = await openStreams(stack.apiUrl, runIds.slice(0, WARMUP_STREAMS));
      for (const stream of warm) stream.close();
      await waitFor(async () => (await memory(probe)).streams === 0, { timeoutMs: 10_000 });
      await delay(2_000);
      const before = await memory(probe);
      const window = await openBudgetWindow(stack);
      const measured = runIds.slice(WARMUP_STREAMS);
      ctx.say(`${label}: opening ${measured.length} streams (API RSS ${before.rssMb} MB, heap ${before.heapMb} MB)`);
      const openStarted = performance.now();
      streams = await openStreams(stack.apiUrl, measured);
      const openMs = round(performance.now() - openStarted);
      await waitFor(
        async () => {
          const m = await memory(probe);
          return m.streams === measured.length && m.waits === measured.length;
        },
        { timeoutMs: 30_000, description: `the API to hold ${measured.length} waiting streams` },
      );
      const samples = [await memory(probe)];
      const holdEnd = performance.now() + spec.holdMs;
      while (performance.now() < holdEnd) {
        await delay(1_000);
        samples.push(await memory(probe));
      }
      const open = samples.at(-1)!;
      const openPeakRss = Math.max(...samples.map((s) => s.rssMb));
      const openPeakHeap = Math.max(...samples.map((s) => s.heapMb));
      ctx.say(
        `${label}: ${open.streams} streams open, RSS peak ${openPeakRss} MB (+${round(openPeakRss - before.rssMb)}), heap peak ${openPeakHeap} MB; cancelling every run`,
      );
      const cancelStarted = Date.now();
      await cancelAll(client, measured);
      const ended = await Promise.all(streams.map((s) => s.done));
      const delays: number[] = [];
      ended.forEach((frames, i) => {
        const types = frames.map((f) => f.type);
        if (types.at(-1) !== 'end' || !types.includes('CANCEL_REQUESTED') || !types.includes('RUN_STATUS_CHANGED'))
          problems.push(`stream of ${measured[i]} delivered ${types.join(',')}`);
        for (const f of frames)
          if (f.atMs !== undefined && f.atMs >= cancelStarted - 1 && f.seq !== 1) delays.push(f.arrivedAt - f.atMs);
      });
      await waitFor(
        async () => {
          const m = await memory(probe);
          return m.streams === 0 && m.waits === 0;
        },
        { timeoutMs: 10_000, description: 'the API to release every stream' },
      ).catch(() => problems.push('the API still counts open streams or waits after every stream ended'));
      const after = await memory(probe);
      return await budgetResult(ctx, spec, run, window, {
        units: measured.length,
        runs: measured.length,
        problems: problems.slice(0, 10),
        budget: {
          kind: 'sse-memory',
          streams: measured.length,
          holdMs: spec.holdMs,
          rssMb: {
            before: before.rssMb,
            openPeak: openPeakRss,
            after: after.rssMb,
            growth: round(openPeakRss - before.rssMb),
          },
          heapMb: {
            before: before.heapMb,
            openPeak: openPeakHeap,
            after: after.heapMb,
            growth: round(openPeakHeap - before.heapMb),
          },
          gauges: {
            open: { streams: open.streams, waits: open.waits },
            after: { streams: after.streams, waits: after.waits },
          },
          openMs,
          cancelDelayMs: describeDistribution(delays),
        },
      });
    } finally {
      for (const stream of streams) stream.close();
      client.close();
    }
  });
}
