import { loadavg } from 'node:os';
import { runAutocannon } from '../autocannon.js';
import { diffCpu, otherLoad } from '../cpu-delta.js';
import { summarizeProfileFiles } from '../profile-files.js';
import { monotonicMicros } from '../summarize-profile.js';
import type { ScenarioResult } from '../results.js';
import type { StartRateScenario } from '../scenarios.js';
import type { ScenarioContext } from '../scenario-context.js';
import { readRuns, readSteps } from '../scenario-reads.js';
import { verifyRuns } from '../verify-runs.js';
import { buildStartBody, START_PATH } from '../workload.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_SECONDS = 2;
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The start endpoint alone under autocannon, with no engine running (runs stay PENDING): a 2 s warm-up, then the
 * measured `durationSeconds`. Every 202 must have created exactly one PENDING run.
 */
export async function runStartRate(ctx: ScenarioContext, spec: StartRateScenario): Promise<ScenarioResult> {
  return onFreshStack(ctx, spec.name, { engines: 0, withEngines: false }, async (run) => {
    const { label, stack, profileDir } = run;
    const url = `${stack.apiUrl}${START_PATH}`;
    const load = { url, connections: spec.connections, timeoutMs: spec.timeoutMs };
    await runAutocannon({ ...load, body: buildStartBody('warmup', 0), durationSeconds: WARMUP_SECONDS });
    await run.startCounting();
    const monitor = run.monitor();
    const cpuBefore = await stack.cpu();
    const loadAverage = loadavg().map((n) => round(n));
    ctx.say(`${label}: autocannon, ${spec.connections} connections, ${spec.durationSeconds} s`);
    const window = { startUs: monotonicMicros(), endUs: 0 };
    const result = await runAutocannon({
      ...load,
      body: buildStartBody('measure', 0),
      durationSeconds: spec.durationSeconds,
    });
    window.endUs = monotonicMicros();
    const cpu = diffCpu(cpuBefore, await stack.cpu());
    const apiPeak = (await stack.api.memory()).peakRssMb;
    const runs = await readRuns(monitor, 'measure');
    const steps = await readSteps(
      monitor,
      runs.map((r) => r.id),
    );

    const delta = await run.stopAndCount();

    const verdict = verifyRuns(
      runs.map((r) => r.id),
      runs,
      steps,
      () => 'PENDING',
    );
    // requests still in flight when autocannon's time is up create runs whose 202 it does not count: at most one per connection
    const uncounted = runs.length - result['2xx'];
    if (uncounted < 0 || uncounted > spec.connections)
      verdict.problems.push(`${result['2xx']} starts answered 2xx but ${runs.length} runs exist`);
    if (result.non2xx > 0 || result.errors > 0)
      verdict.problems.push(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
    const starts = result['2xx'];
    // per start: per run created (a few more than the 2xx autocannon counted, see above)
    const perStart = (n: number): number => round(n / runs.length, 3);
    return {
      scenario: spec.name,
      iteration: ctx.iteration,
      engines: 0,
      ok: verdict.problems.length === 0,
      problems: verdict.problems,
      warnings: verdict.warnings,
      startedAt: run.startedAt,
      ...(run.history ? { history: run.history } : {}),
      loadAverage,
      unit: 'start',
      runs: starts,
      units: runs.length,
      windowMs: result.duration * 1000,
      runsPerSecond: round(starts / result.duration, 1),
      unitsPerSecond: round(starts / result.duration, 1),
      autocannon: {
        requestsPerSecond: result.requests.average,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p97_5: result.latency.p97_5,
        p99: result.latency.p99,
        max: result.latency.max,
        non2xx: result.non2xx,
        errors: result.errors,
        total2xx: starts,
      },
      outcomes: { PENDING: runs.filter((r) => r.status === 'PENDING').length },
      peakRssMb: { api: apiPeak, engines: [] },
      cpuSeconds: cpu,
      otherLoad: otherLoad(cpu),
      postgres: {
        server: `${ctx.server.kind} (Postgres ${ctx.server.version})`,
        commits: delta.commits,
        commitsPerUnit: perStart(delta.commits),
        rollbacks: delta.rollbacks,
        ...(delta.statements !== undefined
          ? {
              statements: delta.statements,
              statementsPerUnit: perStart(delta.statements),
              nestedPerUnit: perStart(delta.nestedStatements ?? 0),
            }
          : {}),
        ...(delta.topStatements
          ? {
              topStatements: delta.topStatements.slice(0, 15).map((s) => ({
                ...s,
                query: s.query.replace(/\s+/g, ' ').slice(0, 400),
                totalMs: round(s.totalMs),
                perUnit: perStart(s.calls),
              })),
            }
          : {}),
      },
      ...(profileDir ? { profiles: await summarizeProfileFiles(profileDir, window) } : {}),
      logDir: run.logDir,
    };
  });
}
