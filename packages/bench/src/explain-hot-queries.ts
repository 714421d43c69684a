// Usage: node --conditions=development --import tsx packages/bench/src/explain-hot-queries.ts [--postgres url|embedded] [--runs 2000] [--history 0]
// EXPLAIN (ANALYZE, BUFFERS) of the engine's hot path on a fresh database holding `runs` PENDING runs of the bench
// workflow (and `history` COMPLETED runs, as a database that has been in use for a while has): the claim (claimOutboxBatch), and the completion (completeItem → applyRowWrites) of a middle step, a last
// step and a failing step, each recorded with its real parameters, then replayed under EXPLAIN and rolled back.
// Also lists every statement (round trip) each of those sends. Writes bench-results/explain-<stamp>.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AttemptResult } from '@sagaflow/db';
import type { RecordedStatement } from './query-recorder.js';

const { claimOutboxBatch, completeItem, registerDefinition, startRun } = await import('@sagaflow/db');
const { createBenchDatabase } = await import('./bench-database.js');
const { fillHistory } = await import('./fill-history.js');
const { createDb, createPool } = await import('./db-access.js');
const { openPostgresServer } = await import('./postgres-server.js');
const { explainStatements, QueryRecorder } = await import('./query-recorder.js');
const { buildBenchDefinition } = await import('./workload.js');

const { values } = parseArgs({
  options: {
    postgres: { type: 'string' },
    runs: { type: 'string' },
    history: { type: 'string' },
    out: { type: 'string' },
  },
});
const databaseUrl = process.env.DATABASE_URL || undefined;
const mode = values.postgres === 'embedded' || (!values.postgres && !databaseUrl) ? 'embedded' : 'url';
const runCount = Number(values.runs ?? '2000');
const historyCount = Number(values.history ?? '0');
const server = await openPostgresServer(mode, databaseUrl, (text) => console.error(text));
// an embedded Postgres runs in its own process group: stop it when this script is interrupted
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void server.close().finally(() => process.exit(130)));
const database = await createBenchDatabase(server.adminUrl, 'explain');
const pool = createPool(database.url, { max: 1, applicationName: 'sagaflow-bench-explain' });
const recorder = new QueryRecorder(pool);
const db = createDb(pool);
const sections: string[] = [
  `# Hot queries: EXPLAIN (ANALYZE, BUFFERS)`,
  '',
  `Postgres ${server.version} (${server.kind}); ${runCount} PENDING runs of bench-saga and ${historyCount} COMPLETED ones, tables analysed.`,
  '',
];

const fence = (text: string): string => ['```', text.trim(), '```'].join('\n');
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
function describeStatements(title: string, statements: readonly RecordedStatement[]): void {
  sections.push(
    `## ${title}: ${statements.length} statements (round trips)`,
    '',
    ...statements.map((s, i) => `${i + 1}. \`${oneLine(s.text).slice(0, 160)}\``),
    '',
  );
}
async function explain(title: string, statements: readonly RecordedStatement[]): Promise<void> {
  for (const { text, plan } of await explainStatements(pool, statements))
    sections.push(`### ${title}: \`${oneLine(text).slice(0, 100)}…\``, '', fence(plan), '');
}

/** Leases the run's live item to this script, as a claim would (the step marked RUNNING); returns the item to complete. */
async function leaseLiveItem(
  runId: string,
): Promise<{ id: string; runId: string; stepIndex: number; kind: 'action' | 'compensation'; leaseToken: string }> {
  const { rows } = await pool.query<{
    id: string;
    step_index: number;
    kind: 'action' | 'compensation';
    lease_token: string;
  }>(
    `update outbox set lease_owner = 'explain', lease_token = gen_random_uuid(), due_at = now() + interval '30 seconds', deliveries = deliveries + 1
      where run_id = $1 and status = 'READY' returning id, step_index, kind, lease_token`,
    [runId],
  );
  const row = rows[0];
  if (!row) throw new Error(`run ${runId} has no live item`);
  await pool.query(
    `update run_steps set status = 'RUNNING', started_at = now() where run_id = $1 and step_index = $2 and status = 'PENDING'`,
    [runId, row.step_index],
  );
  await pool.query(`update workflow_runs set status = 'RUNNING' where id = $1 and status = 'PENDING'`, [runId]);
  return { id: row.id, runId, stepIndex: row.step_index, kind: row.kind, leaseToken: row.lease_token };
}

const success: AttemptResult = { outcome: 'SUCCEEDED', output: { ok: true } };
const attempt = (outcome: 'SUCCEEDED' | 'FAILED') => ({
  attemptNo: 1,
  outcome,
  httpStatus: outcome === 'SUCCEEDED' ? 200 : 422,
  error: outcome === 'SUCCEEDED' ? null : { code: 'STEP_FAILED', message: 'POST /notify answered 422' },
  startedAt: new Date(),
  finishedAt: new Date(),
});

try {
  await registerDefinition(db, buildBenchDefinition('http://127.0.0.1:9'));
  const runIds: string[] = [];
  const start = (seq: number) =>
    startRun(db, { workflowName: 'bench-saga', input: { phase: 'measure', seq }, correlationId: `explain-${seq}` });
  describeStatements(
    'start (API, startRun, no version given)',
    await recorder.record(async () => runIds.push((await start(0)).runId), { dryRun: false }),
  );
  for (let seq = 1; seq < runCount; seq++) runIds.push((await start(seq)).runId);
  // finished runs stay in workflow_runs: a claim or completion whose cost grows with them shows here
  // as pnpm bench --history fills them: each with its 3 steps and 3 attempts
  if (historyCount > 0) await fillHistory(database.url, historyCount, (text) => console.error(text));
  await pool.query('analyze');

  const claim = await recorder.record(() => claimOutboxBatch(db, 'explain-claim', 16, 30_000), { dryRun: false });
  describeStatements('claim (engine, claimOutboxBatch, 16 items)', claim);
  await explain('claim', claim);

  const [middleRun, lastRun, failRun] = runIds.slice(-3) as [string, string, string];
  const middle = await leaseLiveItem(middleRun);
  // the engine completes with carryOver: the next step's item stays leased to it and comes back with the run's data
  const carryOver = { carryOver: { owner: 'explain', leaseMs: 30_000 } };
  const middleStatements = await recorder.record(
    () => completeItem(db, middle, attempt('SUCCEEDED'), success, carryOver),
    { dryRun: true },
  );
  describeStatements(
    'completion of a middle step (success, the next item carried over to this engine)',
    middleStatements,
  );
  await explain('middle step', middleStatements);

  for (const runId of [lastRun, failRun]) {
    for (let step = 0; step < 2; step++)
      await completeItem(db, await leaseLiveItem(runId), attempt('SUCCEEDED'), success);
  }
  const last = await leaseLiveItem(lastRun);
  const lastStatements = await recorder.record(() => completeItem(db, last, attempt('SUCCEEDED'), success), {
    dryRun: true,
  });
  describeStatements('completion of the last step (run COMPLETED, item deleted)', lastStatements);
  await explain('last step', lastStatements);

  const failing = await leaseLiveItem(failRun);
  const failure: AttemptResult = {
    outcome: 'FAILED',
    error: { code: 'STEP_FAILED', message: 'POST /notify answered 422' },
  };
  const failStatements = await recorder.record(() => completeItem(db, failing, attempt('FAILED'), failure), {
    dryRun: true,
  });
  describeStatements('completion of a failing step (run COMPENSATING, item moves to a compensation)', failStatements);
  await explain('failing step', failStatements);

  const markdown = sections.join('\n');
  const outDir = values.out ?? 'bench-results';
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `explain-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  await writeFile(file, `${markdown}\n`);
  console.log(markdown);
  console.error(`wrote ${file}`);
} finally {
  // after an interrupt the server is already going down: these may fail, the cluster is still removed
  await db.destroy().catch(() => {});
  await database.drop().catch(() => {});
  await server.close();
}
