import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';
import type { ScenarioResult } from './results.js';
import { BUDGET_SCENARIOS } from './scenarios.js';
import type { StepPhases } from './scenario-reads.js';
import { formatAllocSummary } from './summarize-alloc-profile.js';
import { formatProfileSummary, profiledProcessCpuSeconds } from './summarize-profile.js';
import { computeMedians, formatCpuTable, formatSummaryTable } from './summary-table.js';
import { checkBudgets } from './budget-table.js';
import { checkTargets, formatTargets } from './targets.js';

export interface BenchMeta {
  label: string | undefined;
  startedAt: string;
  finishedAt: string;
  commit: string;
  /** files changed in the working tree when the bench ran (others may be editing it) */
  uncommittedChanges: number;
  node: string;
  cpu: string;
  cores: number;
  postgres: string;
  /** --history: completed runs in each scenario's database before its warm-up (0 = a fresh, empty database) */
  history: number;
  options: BenchOptions;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function describeEnvironment(options: BenchOptions, postgres: string, startedAt: string): BenchMeta {
  const status = git(['status', '--porcelain']);
  return {
    label: options.label,
    startedAt,
    finishedAt: '',
    // BENCH_COMMIT: for a tree exported with `git archive` (no .git), the commit it came from
    commit: git(['rev-parse', '--short', 'HEAD']) || process.env.BENCH_COMMIT || 'unknown',
    uncommittedChanges: status ? status.split('\n').length : 0,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    postgres,
    history: options.history,
    options,
  };
}

/** Writes results.json (every iteration, the medians, the target checks) and summary.md; returns the markdown. */
export async function writeReport(dir: string, meta: BenchMeta, results: readonly ScenarioResult[]): Promise<string> {
  // the budget scenarios have their own figures (results.json: budget), checked against SPEC §18 below
  const medians = computeMedians(
    results.filter((r) => !r.budget && (r.ok || !BUDGET_SCENARIOS.includes(r.scenario))),
    meta.cores,
  );
  const budgets = checkBudgets(results);
  const targets = [...checkTargets(medians).filter((t) => t.met !== undefined || budgets.length === 0), ...budgets];
  await writeFile(join(dir, 'results.json'), `${JSON.stringify({ meta, medians, targets, results }, null, 2)}\n`);
  const failures = results.flatMap((r) => r.problems.map((p) => `- ${r.scenario} #${r.iteration}: ${p}`));
  const warnings = results.flatMap((r) => r.warnings.map((w) => `- ${r.scenario} #${r.iteration}: ${w}`));
  const statements = medians.flatMap((m) => {
    const sample = results.find((r) => r.scenario === m.scenario && r.ok && r.postgres.topStatements);
    return sample ? [formatStatements(sample)] : [];
  });
  const phases = medians.flatMap((m) => {
    const sample = results.find((r) => r.scenario === m.scenario && r.ok && r.stepPhases?.length);
    return sample?.stepPhases ? [formatStepPhases(sample.scenario, sample.iteration, sample.stepPhases)] : [];
  });
  const profiles = results.flatMap((r) =>
    (r.profiles ?? []).map(
      (p) =>
        `#### ${r.scenario} #${r.iteration}: ${p.file}\n\n${formatProfileSummary(
          {
            ...p.summary,
            functions: p.summary.functions.slice(0, 15),
            packages: p.summary.packages.slice(0, 12),
            nativeByCaller: p.summary.nativeByCaller.slice(0, 8),
          },
          profiledProcessCpuSeconds(p.file, r.cpuSeconds),
        )}`,
    ),
  );
  const allocProfiles = results.flatMap((r) =>
    (r.allocProfiles ?? []).map(
      (p) =>
        `#### ${r.scenario} #${r.iteration}: ${p.file}\n\n${formatAllocSummary(p.summary, { count: r.units, unit: r.unit })}\n`,
    ),
  );
  const markdown = [
    `# pnpm bench${meta.label ? ` — ${meta.label}` : ''}`,
    '',
    `${meta.startedAt} · commit ${meta.commit}${meta.uncommittedChanges ? ` (+${meta.uncommittedChanges} uncommitted files)` : ''} · Node ${meta.node} · ${meta.cores} × ${meta.cpu} · ${meta.postgres}`,
    `${meta.options.compiled ? 'compiled bundles (plain node)' : 'sources through tsx'} · engines ${meta.options.engines} · warm-up ${meta.options.warmup} runs · history ${meta.history} runs · sleeping ${meta.options.sleeping} runs · repeat ${meta.options.repeat}${
      Object.keys(meta.options.serviceEnv).length
        ? ` · env ${Object.entries(meta.options.serviceEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''
    }${meta.options.nodeFlags.length ? ` · node ${meta.options.nodeFlags.join(' ')}` : ''}`,
    '',
    formatSummaryTable(medians),
    '',
    formatCpuTable(medians, meta.cores),
    '',
    formatTargets(targets),
    ...(failures.length ? ['', '## Wrong states / failures', '', ...failures] : []),
    ...(warnings.length ? ['', '## Warnings', '', ...warnings] : []),
    ...(phases.length
      ? ['', "## Where a run's time goes (median per step, first successful iteration)", '', ...phases]
      : []),
    ...(statements.length
      ? ['', '## Statements per unit (pg_stat_statements, first successful iteration)', '', ...statements]
      : []),
    ...(profiles.length ? ['', '## CPU profiles (self time)', '', ...profiles] : []),
    ...(allocProfiles.length
      ? ['', '## Allocation profiles (what was allocated in the window, by function)', '', ...allocProfiles]
      : []),
    '',
  ].join('\n');
  await writeFile(join(dir, 'summary.md'), markdown);
  return markdown;
}

function formatStatements(result: ScenarioResult): string {
  const rows = (result.postgres.topStatements ?? []).map(
    (s) =>
      `| ${s.perUnit} | ${s.calls ? Math.round((s.totalMs / s.calls) * 1000) / 1000 : '–'} | ${s.toplevel ? 'yes' : 'nested'} | \`${s.query.slice(0, 140).replaceAll('|', '\\|')}\` |`,
  );
  return [
    `### ${result.scenario} #${result.iteration}`,
    '',
    `| calls per ${result.unit} | mean ms | top level | statement |`,
    '|---:|---:|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function formatStepPhases(scenario: string, iteration: number, phases: readonly StepPhases[]): string {
  return [
    `### ${scenario} #${iteration}`,
    '',
    '| step | wait: previous completion began → claimed | claimed → request sent | HTTP | response → completion began |',
    '|---:|---:|---:|---:|---:|',
    ...phases.map((p) => `| ${p.stepIndex} | ${p.waitMs} | ${p.prepareMs} | ${p.httpMs} | ${p.toCompletionMs} |`),
    '',
    "ms. Step 0 waits from the run's start transaction (created_at). The last completion (run COMPLETED) is not in any column: completed_at is its transaction start.",
    '',
  ].join('\n');
}
