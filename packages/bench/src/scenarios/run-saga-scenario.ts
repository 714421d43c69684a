import { loadavg } from 'node:os';
import { diffCpu, otherLoad } from '../cpu-delta.js';
import { createJsonClient } from '../http-client.js';
import { actionKey, isRejectedKey } from '../reject-rule.js';
import type { ScenarioResult } from '../results.js';
import type { SagaScenario } from '../scenarios.js';
import type { ServiceStack } from '../service-stack.js';
import { beforeDeadline, type ScenarioContext } from '../scenario-context.js';
import {
  countAttempts,
  countOutbox,
  readRuns,
  readStepPhases,
  readSteps,
  waitForTerminalRuns,
} from '../scenario-reads.js';
import { submitClosedLoop, submitOpenLoop } from '../submit-runs.js';
import { summarizeAllocProfileFiles, summarizeProfileFiles } from '../profile-files.js';
import { monotonicMicros } from '../summarize-profile.js';
import { verifyRuns, type ExpectedOutcome } from '../verify-runs.js';
import { computeSagaFigures } from './saga-figures.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_IN_FLIGHT = 16;
const WARMUP_TIMEOUT_MS = 60_000;

/**
 * One saga scenario on a fresh database and fresh processes (so peak RSS is this scenario's): warm-up, then the
 * measured runs, until all are terminal; then the figures, the state checks and the Postgres counter deltas.
 */
export async function runSagaScenario(ctx: ScenarioContext, spec: SagaScenario): Promise<ScenarioResult> {
  const choice = {
    engines: ctx.engines,
    withEngines: true,
    ...(spec.reject ? { rejectPath: spec.reject.path, rejectPermille: spec.reject.permille } : {}),
  };
  return onFreshStack(ctx, spec.name, choice, async (run) => {
    const { label, stack, profileDir, allocProfileDir } = run;
    const monitor = run.monitor();
    const client = createJsonClient(stack.apiUrl, 32);
    if (ctx.warmup > 0) {
      const warmup = await submitClosedLoop(client, 'warmup', ctx.warmup, WARMUP_IN_FLIGHT);
      await waitForTerminalRuns(
        monitor,
        'warmup',
        warmup.map((s) => s.runId),
        WARMUP_TIMEOUT_MS,
      );
    }
    await run.startCounting();
    const cpuBefore = await stack.cpu();
    const loadAverage = loadavg().map((n) => Math.round(n * 100) / 100);
    const deadline = Date.now() + spec.timeoutMs;
    ctx.say(
      `${label}: submitting ${spec.runs} runs (${spec.submit.mode === 'closed' ? `${spec.submit.inFlight} in flight` : `${spec.submit.perSecond} runs/s`})`,
    );
    // the peak over the life so far (warm-up included), then the peaks restart: the window's own peak is read at its end
    const peakBefore = await readPeaks(stack);
    await Promise.all([stack.api, ...stack.engines].map((child) => child.resetPeakMemory()));
    const window = { startUs: monotonicMicros(), endUs: 0 };
    // alloc-sampler.mjs starts sampling now; it writes its profile when the process exits (stopAndCount)
    if (allocProfileDir) for (const child of [stack.api, ...stack.engines]) process.kill(child.pid, 'SIGUSR2');
    const submitting =
      spec.submit.mode === 'closed'
        ? submitClosedLoop(client, 'measure', spec.runs, spec.submit.inFlight)
        : submitOpenLoop(client, 'measure', spec.runs, spec.submit.perSecond);
    const submitted = await beforeDeadline(submitting, deadline, `${label}: submitting`);
    await waitForTerminalRuns(
      monitor,
      'measure',
      submitted.map((s) => s.runId),
      Math.max(1_000, deadline - Date.now()),
    );
    window.endUs = monotonicMicros();
    const cpu = diffCpu(cpuBefore, await stack.cpu());

    const windowPeak = await readPeaks(stack);
    const memory = {
      api: Math.max(peakBefore.api, windowPeak.api),
      engines: windowPeak.engines.map((mb, i) => Math.max(peakBefore.engines[i] ?? 0, mb)),
    };
    const downstreamMemory = stack.downstream ? (await stack.downstream.memory()).peakRssMb : undefined;
    const downstreamClient = createJsonClient(stack.downstreamUrl, 1);
    const downstream = (await downstreamClient.get('/_bench/stats')).body as {
      counts: Record<string, number>;
      duplicateKeys: number;
    };
    downstreamClient.close();
    client.close();
    // the measured runs are those of phase "measure" (not the warm-up's, not --history's); their steps and attempts by their ids
    const runs = await readRuns(monitor, 'measure');
    const runIds = runs.map((r) => r.id);
    const [steps, attempts, outbox] = [
      await readSteps(monitor, runIds),
      await countAttempts(monitor, runIds),
      await countOutbox(monitor),
    ];
    const stepPhases = await readStepPhases(monitor, runIds);

    const delta = await run.stopAndCount();

    const rejectedStep = spec.reject?.path.replace(/^\//, '');
    const expect = (runId: string): ExpectedOutcome =>
      spec.reject && rejectedStep && isRejectedKey(actionKey(runId, rejectedStep), spec.reject.permille)
        ? 'COMPENSATED'
        : 'COMPLETED';
    const verdict = verifyRuns(
      submitted.map((s) => s.runId),
      runs,
      steps,
      expect,
    );
    if (Object.keys(outbox).length > 0)
      verdict.problems.push(`outbox rows left after every run ended: ${JSON.stringify(outbox)}`);
    if (downstream.duplicateKeys > 0)
      verdict.warnings.push(`the downstream saw ${downstream.duplicateKeys} repeated idempotency keys (redeliveries)`);
    const figures = computeSagaFigures(submitted, runs, attempts, delta);
    return {
      scenario: spec.name,
      iteration: ctx.iteration,
      engines: ctx.engines,
      ok: verdict.problems.length === 0,
      problems: verdict.problems,
      warnings: verdict.warnings,
      startedAt: run.startedAt,
      ...(run.history ? { history: run.history } : {}),
      loadAverage,
      ...figures,
      stepPhases,
      peakRssMb: { ...memory, ...(downstreamMemory !== undefined ? { downstream: downstreamMemory } : {}) },
      windowPeakRssMb: windowPeak,
      cpuSeconds: cpu,
      otherLoad: otherLoad(cpu),
      postgres: { server: `${ctx.server.kind} (Postgres ${ctx.server.version})`, ...figures.postgres },
      downstream,
      outbox,
      ...(profileDir ? { profiles: await summarizeProfileFiles(profileDir, window) } : {}),
      ...(allocProfileDir ? { allocProfiles: await summarizeAllocProfileFiles(allocProfileDir) } : {}),
      logDir: run.logDir,
    };
  });
}

/** VmHWM of the API and of each engine, MiB. */
async function readPeaks(stack: ServiceStack): Promise<{ api: number; engines: number[] }> {
  return {
    api: (await stack.api.memory()).peakRssMb,
    engines: await Promise.all(stack.engines.map(async (e) => (await e.memory()).peakRssMb)),
  };
}
