import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunPage, RunView, WorkflowDefinition } from '@sagaflow/client';
import { waitFor } from '@sagaflow/testkit';
import { runCli, startCli } from './support/run-cli.js';
import { ADMIN_TOKEN, API_KEYS, startStack, type Stack } from './support/stack.js';

/** The built-in commands against a real API + engine + Postgres, the CLI run as a child process. */

let stack: Stack;
let dir: string;
let env: Record<string, string>;
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

const step = (workflow: string, id: string, extra: object = {}): WorkflowDefinition['steps'][number] => ({
  id,
  request: { method: 'POST', url: stack.downstream.urlFor(`/${workflow}/${id}`) },
  ...extra,
});

function definitions(): Record<string, WorkflowDefinition> {
  return {
    ok: { name: 'cli-ok', version: '1.0.0', steps: [step('ok', 'reserve'), step('ok', 'charge')] },
    hold: { name: 'cli-hold', version: '1.0.0', steps: [step('hold', 'slow')] },
    signal: {
      name: 'cli-signal',
      version: '1.0.0',
      steps: [{ id: 'approve', waitForSignal: { name: 'approval' } } as never, step('signal', 'ship')],
    },
    flaky: {
      name: 'cli-flaky',
      version: '1.0.0',
      steps: [
        step('flaky', 'charge', {
          retry: { maxAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 1, jitter: 'none' },
        }),
      ],
    },
  };
}

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'sagaflow-cli-'));
  env = { SAGAFLOW_URL: stack.api.url, SAGAFLOW_ADMIN_TOKEN: ADMIN_TOKEN };
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('workflows apply', () => {
  it('registers every definition of every file, then says unchanged; a changed one is refused with exit 1', async () => {
    const { ok, hold, flaky } = definitions();
    const both = writeJson('two.json', [ok, hold]);
    const one = writeJson('one.json', flaky);

    const first = await runCli(['workflows', 'apply', both, one, '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = JSON.parse(first.stdout) as { results: Array<{ name: string; result: string; file: string }> };
    expect(applied.results.map((r) => [r.name, r.result, r.file])).toEqual([
      ['cli-ok', 'created', both],
      ['cli-hold', 'created', both],
      ['cli-flaky', 'created', one],
    ]);

    const again = await runCli(['workflows', 'apply', both, one], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^WORKFLOW\s+VERSION\s+RESULT\s+FILE/);
    expect(again.stdout.match(/unchanged/g)).toHaveLength(3);
    expect(again.stdout).not.toContain('\x1b['); // not a terminal: no colours

    const changed = writeJson('changed.json', { ...ok, description: 'changed under the same version' });
    const refused = await runCli(['workflows', 'apply', changed, one], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cli-ok@1.0.0');
    expect(refused.stderr).toContain('CONFLICT');
    expect(refused.stdout).toMatch(/cli-ok\s+1\.0\.0\s+refused.*bump "version"/);
    expect(refused.stdout).toMatch(/cli-flaky\s+1\.0\.0\s+unchanged/);
    // the diff of the registered definition (canonical JSON) against the file, and the advice to bump the version
    expect(refused.stderr).toContain(`${changed} changes description of the registered cli-ok@1.0.0:`);
    expect(refused.stderr).toContain('--- registered cli-ok@1.0.0');
    expect(refused.stderr).toContain(`+++ ${changed}`);
    expect(refused.stderr).toMatch(/^@@ .+ @@$/m);
    expect(refused.stderr).toContain('+  "description": "changed under the same version",');
    expect(refused.stderr).toMatch(/bump "version" in .*changed\.json and apply it again/);
    expect(refused.stderr).not.toContain('\x1b[');

    // a changed step URL and a removed step: both paths; --json carries the paths and the diff text
    const steps = ok!.steps;
    const edited = writeJson('edited.json', {
      version: '1.0.0',
      name: 'cli-ok',
      steps: [{ ...steps[0], request: { ...steps[0]!.request, url: 'http://127.0.0.1:1/elsewhere' } }],
    });
    const json = await runCli(['workflows', 'apply', edited, '--json'], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    const [result] = (JSON.parse(json.stdout) as { results: Array<Record<string, unknown>> }).results;
    expect(result).toMatchObject({
      name: 'cli-ok',
      result: 'refused',
      error: { status: 409, code: 'CONFLICT' },
      changes: { changedPaths: ['steps[0].request.url', 'steps[1]'] },
    });
    const diff = (result!.changes as { diff: string }).diff;
    expect(diff).toContain('+        "url": "http://127.0.0.1:1/elsewhere"');
    expect(diff).toMatch(/^-\s+"id": "charge",$/m);

    // on a terminal (FORCE_COLOR here) the diff is coloured
    const colored = await runCli(['workflows', 'apply', changed], { ...env, FORCE_COLOR: '1' });
    expect(colored.code).toBe(1);
    expect(colored.stderr).toContain('\x1b[32m+  "description": "changed under the same version",\x1b[39m');

    // the registered definition is still the first one
    expect((await stack.client.workflows.get('cli-ok', '1.0.0')).definition).toEqual(ok);
  });

  it('without an admin token: exit 1 with the API code and message', async () => {
    const result = await runCli(['workflows', 'apply', writeJson('x.json', definitions().ok), '--json'], {
      SAGAFLOW_URL: stack.api.url,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { status: 401, code: 'UNAUTHORIZED' } });
  });
});

describe('start, runs get, runs events', () => {
  it('start --wait --json prints the terminal run; runs get --json shows the same run', async () => {
    const input = writeJson('input.json', { orderId: 'o-1', amount: 42 });
    const started = await runCli(
      [
        'start',
        'cli-ok',
        '--input',
        `@${input}`,
        '--context',
        '{"tenantId":"acme"}',
        '--idempotency-key',
        'o-1',
        '--wait',
        '--json',
      ],
      env,
    );
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const view = JSON.parse(started.stdout) as RunView;
    expect(view.run).toMatchObject({
      status: 'COMPLETED',
      workflowName: 'cli-ok',
      input: { orderId: 'o-1', amount: 42 },
      context: { tenantId: 'acme' },
    });
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['reserve', 'SUCCEEDED'],
      ['charge', 'SUCCEEDED'],
    ]);
    expect(stack.downstream.requests({ runId: view.run.runId }).map((r) => r.path)).toEqual([
      '/ok/reserve',
      '/ok/charge',
    ]);

    const got = await runCli(['runs', 'get', view.run.runId, '--json'], env);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(view);

    // the same idempotency key and body: the same run again, not a second one
    const replay = await runCli(
      ['start', 'cli-ok', '-i', `@${input}`, '-c', '{"tenantId":"acme"}', '-k', 'o-1', '--json'],
      env,
    );
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ runId: view.run.runId });

    const human = await runCli(['runs', 'get', view.run.runId], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Status\s+COMPLETED/);
    expect(human.stdout).toMatch(/Workflow\s+cli-ok@1\.0\.0/);
    expect(human.stdout).toMatch(/^reserve\s+SUCCEEDED\s+1\s+NONE\s+\d+\w* ago/m);
    expect(human.stdout).not.toContain('\x1b[');

    const [colored, noColor] = await Promise.all([
      runCli(['runs', 'get', view.run.runId], { ...env, FORCE_COLOR: '1' }),
      runCli(['runs', 'get', view.run.runId], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' }),
    ]);
    expect(colored.stdout).toContain('\x1b[32mCOMPLETED\x1b[39m');
    expect(noColor.stdout).toMatch(/Status\s+COMPLETED/);
    expect(noColor.stdout).not.toContain('\x1b[');
  });

  it('runs events --follow --json streams NDJSON live and ends at the terminal event', async () => {
    stack.downstream.holdPath('/hold/slow');
    const started = await runCli(['start', 'cli-hold', '--json'], env);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const follow = startCli(['runs', 'events', runId, '--follow', '--json'], env);
    // live: the run waits on the held request while the stream is open
    await waitFor(() => follow.lines().some((line) => line.includes('"RUNNING"')), {
      ...WAIT,
      description: 'RUNNING event',
    });
    await stack.downstream.waitForRequest((r) => r.runId === runId);
    expect(follow.child.exitCode).toBeNull();
    stack.downstream.releasePath('/hold/slow');

    const result = await follow.done;
    expect(result.code).toBe(0);
    const events = follow.lines().map((line) => JSON.parse(line) as RunEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED',
      'ATTEMPT_FINISHED',
      'RUN_STATUS_CHANGED',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ from: 'RUNNING', to: 'COMPLETED' });
    expect((await stack.client.runs.get(runId)).run.status).toBe('COMPLETED');
  });

  it('runs events prints a timeline; --json one document', async () => {
    const started = await runCli(['start', 'cli-ok', '--wait', '--json'], env);
    const { run } = JSON.parse(started.stdout) as RunView;
    const human = await runCli(['runs', 'events', run.runId], env);
    expect(human.code).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+\+0ms\s+#1\s+RUN_CREATED\s+cli-ok@1\.0\.0/);
    expect(lines[2]).toMatch(/#3\s+ATTEMPT_FINISHED\s+reserve action #1\s+SUCCEEDED\s+HTTP 200/);
    expect(lines[3]).toMatch(/#4\s+ATTEMPT_FINISHED\s+charge action #1\s+SUCCEEDED\s+HTTP 200/);
    expect(lines[4]).toMatch(/#5\s+RUN_STATUS_CHANGED\s+RUNNING → COMPLETED/);

    const json = await runCli(['runs', 'events', run.runId, '--after', '3', '--json'], env);
    const page = JSON.parse(json.stdout) as { runId: string; events: RunEvent[]; terminal: boolean };
    expect(page).toMatchObject({ runId: run.runId, terminal: true });
    expect(page.events.map((e) => e.seq)).toEqual([4, 5]);
  });
  it('start <workflow> --version <v> after the workflow starts that version (not the CLI version, not the highest)', async () => {
    const v1: WorkflowDefinition = { name: 'cli-versions', version: '1.0.0', steps: [step('versions', 'only')] };
    await stack.client.admin.workflows.register(v1);
    await stack.client.admin.workflows.register({ ...v1, version: '2.0.0' });
    const [human, json, waited, latest] = await Promise.all([
      runCli(['start', 'cli-versions', '--version', '1.0.0'], env),
      runCli(['start', 'cli-versions', '--json', '--version', '1.0.0'], env),
      runCli(['start', 'cli-versions', '--wait', '--version', '1.0.0', '--json'], env),
      runCli(['start', 'cli-versions', '--json'], env),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^started run \S+ of cli-versions /);
    const humanRunId = /^started run (\S+)/.exec(human.stdout)?.[1] ?? '';
    expect(json.code).toBe(0);
    expect(waited.code).toBe(0);
    const waitedView = JSON.parse(waited.stdout) as RunView;
    expect(waitedView.run).toMatchObject({
      status: 'COMPLETED',
      workflowName: 'cli-versions',
      workflowVersion: '1.0.0',
    });
    const versionOf = async (runId: string): Promise<string> =>
      (await stack.client.runs.get(runId)).run.workflowVersion;
    expect(await versionOf(humanRunId)).toBe('1.0.0');
    expect(await versionOf((JSON.parse(json.stdout) as { runId: string }).runId)).toBe('1.0.0');
    expect(await versionOf((JSON.parse(latest.stdout) as { runId: string }).runId)).toBe('2.0.0');
  });
});

describe('runs cancel and runs retry', () => {
  it('cancels a running run; cancelling it again is exit 1 with CONFLICT', async () => {
    stack.downstream.holdPath('/hold/slow');
    const { runId } = JSON.parse((await runCli(['start', 'cli-hold', '--json'], env)).stdout) as { runId: string };
    await stack.downstream.waitForRequest((r) => r.runId === runId);

    const cancelled = await runCli(['runs', 'cancel', runId], env);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`run ${runId} CANCELLING`);
    stack.downstream.releasePath('/hold/slow');
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('CANCELLED');

    const again = await runCli(['runs', 'cancel', runId], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^error: CONFLICT \(HTTP 409\): .+/);
  });

  it('start --wait exits 1 on a FAILED run; runs retry runs the step again and the run COMPLETES', async () => {
    stack.downstream.script('/flaky/charge', [
      { status: 503 },
      { status: 400, body: { error: 'declined' } },
      { status: 200 },
    ]);
    const failed = await runCli(['start', 'cli-flaky', '--wait'], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/Status\s+FAILED/);
    expect(failed.stderr).toMatch(/error: RUN_FAILED: run \S+ ended FAILED/);
    const runId = /Run\s+(\S+)/.exec(failed.stdout)?.[1] ?? '';

    const timeline = await runCli(['runs', 'events', runId], env);
    expect(timeline.stdout).toMatch(/charge action #1\s+RETRYABLE\s+HTTP 503\s+\d+ms.*next attempt in \d+ms/);
    expect(timeline.stdout).toMatch(/charge action #2\s+FAILED\s+HTTP 400/);

    const retried = await runCli(['runs', 'retry', runId, 'charge', '--json'], env);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual({ runId, stepId: 'charge', status: 'RUNNING' });
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });

    const refused = await runCli(['runs', 'retry', runId, 'charge', '--json'], env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { status: 409, code: 'CONFLICT' } });
  });

  it('an unknown run is exit 1 with NOT_FOUND', async () => {
    const result = await runCli(['runs', 'get', '00000000-0000-4000-8000-000000000000'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: NOT_FOUND \(HTTP 404\): /);
  });
});

describe('API keys (SPEC §14)', () => {
  it('--api-key / SAGAFLOW_API_KEY is sent as a bearer key, the event stream included; a low role is exit 1 (403)', async () => {
    const keyed = { SAGAFLOW_URL: stack.keyedApi.url };
    const missing = await runCli(['start', 'cli-ok', '--json'], keyed);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { status: 401 } });

    const started = await runCli(['start', 'cli-ok', '--wait', '--json', '--api-key', API_KEYS.client], keyed);
    expect(started.code).toBe(0);
    const { run } = JSON.parse(started.stdout) as RunView;
    expect(run.status).toBe('COMPLETED');
    const follow = await runCli(['runs', 'events', run.runId, '--follow', '--json'], {
      ...keyed,
      SAGAFLOW_API_KEY: API_KEYS.client,
    });
    expect(follow.code).toBe(0);
    expect(follow.stdout.trim().split('\n')).toHaveLength(5);

    const apply = writeJson('keyed.json', definitions().ok);
    const refused = await runCli(['workflows', 'apply', apply, '--json'], {
      ...keyed,
      SAGAFLOW_API_KEY: API_KEYS.client,
    });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { status: 403, code: 'FORBIDDEN' } });
    const applied = await runCli(['workflows', 'apply', apply, '--json'], {
      ...keyed,
      SAGAFLOW_API_KEY: API_KEYS.admin,
    });
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ results: [{ name: 'cli-ok', result: 'unchanged' }] });
  });

  it('SAGAFLOW_ADMIN_TOKEN alone is an admin credential on every call, not only the admin ones: runs list, start, the event stream', async () => {
    const adminOnly = { SAGAFLOW_URL: stack.keyedApi.url, SAGAFLOW_ADMIN_TOKEN: ADMIN_TOKEN };
    const started = await runCli(['start', 'cli-ok', '--wait', '--json'], adminOnly);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const { run } = JSON.parse(started.stdout) as RunView;
    expect(run.status).toBe('COMPLETED');
    const [listed, follow, flag] = await Promise.all([
      runCli(['runs', 'list', '--workflow', 'cli-ok', '--json'], adminOnly),
      runCli(['runs', 'events', run.runId, '--follow', '--json'], adminOnly),
      runCli(['runs', 'list', '--json', '--admin-token', ADMIN_TOKEN], { SAGAFLOW_URL: stack.keyedApi.url }),
    ]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as RunPage).items.map((r) => r.runId)).toContain(run.runId);
    expect(follow.code).toBe(0);
    expect(follow.stdout.trim().split('\n')).toHaveLength(5);
    expect(flag.code).toBe(0);
    expect((JSON.parse(flag.stdout) as RunPage).items.map((r) => r.runId)).toContain(run.runId);

    // a wrong token is refused (401), not ignored
    const wrong = await runCli(['runs', 'list', '--json'], { ...adminOnly, SAGAFLOW_ADMIN_TOKEN: 'not-the-token' });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stderr)).toMatchObject({ error: { status: 401, code: 'UNAUTHORIZED' } });
  });
});

describe('signal, runs events --follow (human)', () => {
  it('a run waits for a signal; signal puts it in the mailbox (human, then --json, idempotent); the timeline follows to the end', async () => {
    await stack.client.admin.workflows.register(definitions().signal!);
    const { runId } = JSON.parse((await runCli(['start', 'cli-signal', '--json'], env)).stdout) as { runId: string };
    const follow = startCli(['runs', 'events', runId, '--follow'], env);
    await waitFor(() => follow.lines().some((line) => /STEP_WAITING\s+approve/.test(line)), {
      ...WAIT,
      description: 'STEP_WAITING line',
    });
    expect(follow.child.exitCode).toBeNull();

    const sent = await runCli(['signal', runId, 'approval', '--payload', '{"by":"ana"}', '-k', 'approve-1'], env);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(new RegExp(`^signal \\S+ \\(approval\\) in the mailbox of run ${runId}`));
    const signalId = /^signal (\S+)/.exec(sent.stdout)?.[1];

    const result = await follow.done;
    expect(result.code).toBe(0);
    const lines = follow.lines();
    expect(lines[0]).toMatch(/#1\s+RUN_CREATED\s+cli-signal@1\.0\.0/);
    expect(lines.join('\n')).toMatch(/SIGNAL_RECEIVED\s+.*signal approval/);
    expect(lines.join('\n')).toMatch(/ship action #1\s+SUCCEEDED\s+HTTP 200/);
    expect(lines.at(-1)).toMatch(/\+\d+(\.\d+)?m?s\s+#\d+\s+RUN_STATUS_CHANGED\s+RUNNING → COMPLETED$/);

    // the same key and payload again: the same signal, not a second one (--json)
    const again = await runCli(
      ['signal', runId, 'approval', '--payload', '{"by":"ana"}', '--idempotency-key', 'approve-1', '--json'],
      env,
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ signalId, runId, name: 'approval', consumed: true });

    const unknown = await runCli(['signal', '00000000-0000-4000-8000-000000000000', 'approval', '--json'], env);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { status: 404, code: 'NOT_FOUND' } });
  });

  it('runs events --follow resumes after the connection drops: no event lost or repeated', async () => {
    // a TCP proxy in front of the API that can cut every open connection
    const sockets = new Set<Socket>();
    let connections = 0;
    const apiPort = Number(new URL(stack.api.url).port);
    const proxy: Server = createServer((client) => {
      connections++;
      const upstream = createConnection(apiPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      await stack.client.admin.workflows.register(definitions().hold!); // unchanged when registered before
      stack.downstream.holdPath('/hold/slow');
      const { runId } = JSON.parse((await runCli(['start', 'cli-hold', '--json'], env)).stdout) as { runId: string };
      const follow = startCli(['runs', 'events', runId, '--follow', '--json'], { ...env, SAGAFLOW_URL: proxyUrl });
      await waitFor(() => follow.lines().some((line) => line.includes('"RUNNING"')), {
        ...WAIT,
        description: 'RUNNING event',
      });
      await stack.downstream.waitForRequest((r) => r.runId === runId);
      const before = connections;
      for (const socket of sockets) socket.destroy(); // the stream is cut mid-run
      stack.downstream.releasePath('/hold/slow');
      await stack.client.runs.waitForCompletion(runId, WAIT);

      const result = await follow.done;
      expect(result.code).toBe(0);
      expect(connections).toBeGreaterThan(before); // it reconnected
      const events = follow.lines().map((line) => JSON.parse(line) as RunEvent);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(events.at(-1)?.data).toMatchObject({ from: 'RUNNING', to: 'COMPLETED' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
