import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operation, RunCounts, RunPage, Schedule } from '@sagaflow/client';
import { waitFor } from '@sagaflow/testkit';
import { runCli, startCli } from './support/run-cli.js';
import { ADMIN_TOKEN, startStack, type Stack } from './support/stack.js';

/** The listing and operator commands (runs list/counts/redrive/pause/resume, workflows, ops, schedules). */

let stack: Stack;
let dir: string;
let env: Record<string, string>;
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
/** The three FAILED runs of `op-fail`, newest first. */
let failedRuns: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'sagaflow-cli-op-'));
  env = { SAGAFLOW_URL: stack.api.url, SAGAFLOW_ADMIN_TOKEN: ADMIN_TOKEN };
  const once = { retry: { maxAttempts: 1 } };
  for (const [name, path] of [
    ['op-fail', '/opfail/charge'],
    ['op-hold', '/ophold/slow'],
  ] as const) {
    await stack.client.admin.workflows.register({
      name,
      version: '1.0.0',
      steps: [{ id: 'charge', request: { method: 'POST', url: stack.downstream.urlFor(path) }, ...once }],
    });
  }
  stack.downstream.script('/opfail/charge', [{ status: 400, body: { error: 'declined' } }]);
  const started = [];
  for (let i = 0; i < 3; i++) started.push(await stack.client.workflows.start('op-fail', { input: { i } }));
  for (const { runId } of started)
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('FAILED');
  failedRuns = started.map((run) => run.runId).reverse();
  stack.downstream.script('/opfail/charge', [{ status: 200 }]);
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('runs list and counts', () => {
  it('lists one page (json and table), every page with --all (one JSON document), and counts per status', async () => {
    const [page, table, all, counts, none] = await Promise.all([
      runCli(['runs', 'list', '--workflow', 'op-fail', '--status', 'failed,COMPENSATED', '--json'], env),
      runCli(['runs', 'list', '-w', 'op-fail', '--limit', '2', '--input', '{"i":1}'], env),
      runCli(['runs', 'list', '-w', 'op-fail', '--all', '--limit', '2', '--json'], env),
      runCli(['runs', 'counts', '--workflow', 'op-fail', '--json'], env),
      runCli(['runs', 'counts', '--workflow', 'op-fail', '--status', 'RUNNING'], env),
    ]);
    expect(page.stderr).toBe('');
    expect(page.code).toBe(0);
    const parsed = JSON.parse(page.stdout) as RunPage;
    expect(parsed.items.map((run) => [run.runId, run.status, run.error?.code])).toEqual(
      failedRuns.map((runId) => [runId, 'FAILED', 'STEP_FAILED']),
    );
    expect(parsed.nextCursor).toBeNull();

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+CREATED\s+ERROR\n/);
    expect(table.stdout).toContain(`${failedRuns[1]}  op-fail@1.0.0  FAILED`);
    expect(table.stdout).toMatch(/STEP_FAILED at charge/);
    expect(table.stdout.trim().split('\n')).toHaveLength(2); // the head and the one run with input {"i":1}

    // --all --json: one document shaped like a page, every run of every page (2 requests here), nextCursor null
    expect(all.code).toBe(0);
    const everything = JSON.parse(all.stdout) as RunPage;
    expect(Object.keys(everything).sort()).toEqual(['items', 'nextCursor']);
    expect(everything.items.map((run) => run.runId)).toEqual(failedRuns);
    expect(everything.nextCursor).toBeNull();
    expect(everything.items[0]).toEqual(parsed.items[0]);

    // --all as a table: every run, the count on stderr
    const allTable = await runCli(['runs', 'list', '-w', 'op-fail', '--all', '--limit', '2'], env);
    expect(allTable.code).toBe(0);
    expect(
      allTable.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/)[0]),
    ).toEqual(failedRuns);
    expect(allTable.stderr).toBe('3 runs\n');

    expect(counts.code).toBe(0);
    const parsedCounts = JSON.parse(counts.stdout) as RunCounts;
    expect(parsedCounts.total).toBe(3);
    expect(parsedCounts.byStatus).toMatchObject({ FAILED: 3, RUNNING: 0, COMPLETED: 0 });
    expect(none.stdout).toMatch(/TOTAL\s+0/);

    // the table fits the terminal (COLUMNS here): the run id and status stay whole, the other columns are cut
    const narrow = await runCli(['runs', 'list', '-w', 'op-fail'], { ...env, COLUMNS: '72' });
    const narrowLines = narrow.stdout.trimEnd().split('\n');
    expect(narrowLines).toHaveLength(4);
    for (const line of narrowLines) expect(line.length).toBeLessThanOrEqual(72);
    expect(narrowLines[1]).toMatch(new RegExp(`^${failedRuns[0]}  .*FAILED`));
    expect(narrow.stdout).toContain('…');

    const paged = await runCli(['runs', 'list', '-w', 'op-fail', '--limit', '2'], env);
    expect(paged.stderr).toMatch(/more: add --cursor \S+ for the next page, or --all/);
    const cursor = /--cursor (\S+)/.exec(paged.stderr)?.[1] ?? '';
    const next = await runCli(['runs', 'list', '-w', 'op-fail', '--limit', '2', '--cursor', cursor, '--json'], env);
    expect((JSON.parse(next.stdout) as RunPage).items.map((run) => run.runId)).toEqual([failedRuns[2]]);
  });
});

describe('workflows list, get, pause, resume', () => {
  it('lists, prints a definition, pauses and resumes a workflow', async () => {
    const listed = await runCli(['workflows', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const { items } = JSON.parse(listed.stdout) as { items: Array<{ name: string; paused: boolean }> };
    expect(items.map((w) => w.name).sort()).toEqual(['op-fail', 'op-hold']);

    const got = await runCli(['workflows', 'get', 'op-fail'], env);
    expect(got.code).toBe(0);
    expect(got.stderr).toMatch(/op-fail@1\.0\.0 registered \S+ sha256 [0-9a-f]{64}/);
    expect(JSON.parse(got.stdout)).toMatchObject({ name: 'op-fail', version: '1.0.0', steps: [{ id: 'charge' }] });
    const missing = await runCli(['workflows', 'get', 'op-fail', '9.9.9'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND \(HTTP 404\)/);

    const paused = await runCli(['workflows', 'pause', 'op-hold', '--reason', 'test', '--json'], env);
    expect(JSON.parse(paused.stdout)).toEqual({ name: 'op-hold', paused: true });
    const table = await runCli(['workflows', 'list'], env);
    expect(table.stdout).toMatch(/^op-hold\s+1\.0\.0\s+1\.0\.0\s+paused/m);
    const resumed = await runCli(['workflows', 'resume', 'op-hold'], env);
    expect(resumed).toMatchObject({ code: 0, stdout: 'workflow op-hold not paused\n' });
    expect((await stack.client.workflows.list()).find((w) => w.name === 'op-hold')?.paused).toBe(false);
  });
});

describe('runs redrive, pause, resume', () => {
  it('redrives a FAILED run to COMPLETED; pauses and resumes a running one', async () => {
    const runId = failedRuns[0]!;
    const redriven = await runCli(['runs', 'redrive', runId, '--reason', 'fixed', '--json'], env);
    expect(redriven.stderr).toBe('');
    expect(JSON.parse(redriven.stdout)).toEqual({ runId, status: 'RUNNING', stepId: 'charge', kind: 'action' });
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('COMPLETED');
    const again = await runCli(['runs', 'redrive', runId], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: CONFLICT \(HTTP 409\)/);

    stack.downstream.holdPath('/ophold/slow');
    const { runId: held } = await stack.client.workflows.start('op-hold', { input: {} });
    await stack.downstream.waitForRequest((r) => r.runId === held);
    const paused = await runCli(['runs', 'pause', held, '-r', 'look first'], env);
    expect(paused).toMatchObject({ code: 0, stdout: `run ${held} RUNNING paused\n` });
    expect((await stack.client.runs.get(held)).run.paused).toBe(true);
    const listed = await runCli(['runs', 'list', '--workflow', 'op-hold', '--status', 'RUNNING'], env);
    expect(listed.stdout).toContain(`${held}  op-hold@1.0.0  RUNNING (paused)`);
    const resumed = await runCli(['runs', 'resume', held, '--json'], env);
    expect(JSON.parse(resumed.stdout)).toEqual({ runId: held, status: 'RUNNING', paused: false });
    stack.downstream.releasePath('/ophold/slow');
    expect((await stack.client.runs.waitForCompletion(held, WAIT)).run.status).toBe('COMPLETED');
  });
});

describe('ops', () => {
  it('create --dry-run counts; create --yes --json redrives every match and waits; get, list, cancel', async () => {
    const filter = ['--workflow', 'op-fail', '--status', 'FAILED'];
    const dry = await runCli(['ops', 'create', '--action', 'redrive', ...filter, '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    const remaining = failedRuns.slice(1);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 2, eligible: 2 });
    expect((JSON.parse(dry.stdout) as { sample: string[] }).sample.sort()).toEqual([...remaining].sort());

    const created = await runCli(
      ['ops', 'create', '--action', 'redrive', ...filter, '--reason', 'bulk', '--interval', '100', '--yes', '--json'],
      env,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const operation = JSON.parse(created.stdout) as Operation;
    expect(operation).toMatchObject({
      action: 'redrive',
      status: 'COMPLETED',
      total: 2,
      succeeded: 2,
      failed: 0,
      reason: 'bulk',
    });
    for (const runId of remaining)
      expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('COMPLETED');

    const human = await runCli(['ops', 'create', '--action', 'cancel', ...filter, '--yes'], env);
    expect(human).toMatchObject({ code: 0, stdout: 'nothing to do: no matching run is eligible\n' });
    expect(human.stderr).toMatch(/cancel: 0 runs match, 0 eligible now/);

    const [got, listed, cancelled] = await Promise.all([
      runCli(['ops', 'get', operation.operationId], env),
      runCli(['ops', 'list', '--json'], env),
      runCli(['ops', 'cancel', operation.operationId, '--json'], env),
    ]);
    expect(got.stdout).toMatch(/status\s+COMPLETED/);
    expect(got.stdout).toMatch(/progress\s+2\/2 \(100%\): 2 succeeded, 0 skipped, 0 failed/);
    expect((JSON.parse(listed.stdout) as { items: Operation[] }).items.map((o) => o.operationId)).toEqual([
      operation.operationId,
    ]);
    expect(cancelled.code).toBe(1); // a completed operation cannot be cancelled
    expect(JSON.parse(cancelled.stderr)).toMatchObject({ error: { status: 409, code: 'CONFLICT' } });
  });
});

describe('ops create: the prompt on stdin, the progress bar, Ctrl-C detaches', () => {
  it('n → nothing done (exit 1); no answer → exit 2; y → created, progress until Ctrl-C, which leaves it running', async () => {
    stack.downstream.holdPath('/ophold/slow');
    const held: string[] = [];
    for (let i = 0; i < 3; i++) held.push((await stack.client.workflows.start('op-hold', { input: { i } })).runId);
    for (const runId of held) await stack.downstream.waitForRequest((r) => r.runId === runId);
    const args = ['ops', 'create', '--action', 'cancel', '--workflow', 'op-hold', '--status', 'RUNNING'];
    const before = (await stack.client.admin.operations.list()).items.length;

    const [no, silent] = await Promise.all([runCli(args, env, 'n\n'), runCli(args, env, '')]);
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('cancel: 3 runs match, 3 eligible now');
    expect(no.stderr).toContain('cancel 3 runs? [y/N] ');
    expect(no.stderr).toMatch(/error: ABORTED: not confirmed: nothing was done/);
    expect(silent.code).toBe(2);
    expect(silent.stderr).toMatch(/error: USAGE: no answer on stdin: add --yes/);
    expect((await stack.client.admin.operations.list()).items).toHaveLength(before);

    // y: the operation is created and followed (one run a second), until Ctrl-C
    const yes = startCli([...args, '--rate', '1', '--reason', 'prompted', '--interval', '100'], env, 'y\n');
    let stderr = '';
    yes.child.stderr?.on('data', (chunk: Buffer | string) => (stderr += String(chunk)));
    const bar = /\[[█░]{24}\] RUNNING \d\/3/;
    await waitFor(() => bar.test(stderr) || yes.child.exitCode !== null, { ...WAIT, description: 'the progress bar' });
    expect(stderr).toMatch(bar);
    const operationId = /operation (\S+) created \(3 runs\)/.exec(stderr)?.[1] ?? '';
    expect(operationId).not.toBe('');
    yes.child.kill('SIGINT');
    const detached = await yes.done;
    expect(detached.code).toBe(130);
    expect(detached.stderr).toContain(`the operation goes on; follow it: sagaflow ops get ${operationId}`);
    expect(detached.stdout).toBe('');
    // it went on without the CLI: every run is cancelled (the admin API is polled slowly: it is rate limited)
    await waitFor(async () => (await stack.client.admin.operations.get(operationId)).status === 'COMPLETED', {
      timeoutMs: 20_000,
      intervalMs: 1_000,
      description: 'operation COMPLETED',
    });
    expect(await stack.client.admin.operations.get(operationId)).toMatchObject({
      total: 3,
      failed: 0,
      reason: 'prompted',
    });
    stack.downstream.releasePath('/ophold/slow');
    for (const runId of held)
      expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('CANCELLED');
  });
});

describe('schedules', () => {
  it('apply creates then updates; list, get, pause, resume, trigger, delete', async () => {
    const file = join(dir, 'schedules.json');
    const schedule = (id: string) => ({ id, workflowName: 'op-fail', cron: '0 3 1 1 *', input: { from: id } });
    writeFileSync(file, JSON.stringify([schedule('yearly-a'), schedule('yearly-b')]));
    const first = await runCli(['schedules', 'apply', file, '--json'], env);
    expect(first.stderr).toBe('');
    expect(
      (JSON.parse(first.stdout) as { results: Array<{ id: string; result: string }> }).results.map((r) => [
        r.id,
        r.result,
      ]),
    ).toEqual([
      ['yearly-a', 'created'],
      ['yearly-b', 'created'],
    ]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...schedule('yearly-a'), cron: 'not a cron' }));
    const second = await runCli(['schedules', 'apply', file, bad], env);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/yearly-a\s+updated/);
    expect(second.stdout).toMatch(/yearly-a\s+refused/);
    expect(second.stderr).toMatch(/yearly-a \(.*bad\.json\): BAD_REQUEST/);

    const listed = await runCli(['schedules', 'list'], env);
    expect(listed.stdout).toMatch(/^SCHEDULE\s+WORKFLOW\s+CRON\s+TIMEZONE\s+PAUSED\s+NEXT\s+LAST\n/);
    expect(listed.stdout).toMatch(/yearly-a\s+op-fail\s+0 3 1 1 \*\s+UTC\s+no\s+in /);

    const paused = await runCli(['schedules', 'pause', 'yearly-a', '--json'], env);
    expect(JSON.parse(paused.stdout)).toMatchObject({ id: 'yearly-a', paused: true, nextFireAt: null });
    expect((await runCli(['schedules', 'resume', 'yearly-a'], env)).stdout).toMatch(/^schedule yearly-a resumed/);

    const triggered = await runCli(['schedules', 'trigger', 'yearly-b', '--json'], env);
    const { runId } = JSON.parse(triggered.stdout) as { runId: string };
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.input).toEqual({ from: 'yearly-b' });
    const got = await runCli(['schedules', 'get', 'yearly-b'], env);
    expect(got.stdout).toContain(`run ${runId}`);

    const deleted = await runCli(['schedules', 'delete', 'yearly-b', '--json'], env);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: 'yearly-b', deleted: true });
    const after = await runCli(['schedules', 'list', '--json'], env);
    expect((JSON.parse(after.stdout) as { items: Schedule[] }).items.map((s) => s.id)).toEqual(['yearly-a']);
    const gone = await runCli(['schedules', 'delete', 'yearly-b'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/NOT_FOUND/);
  });
});
