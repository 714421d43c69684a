import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { WorkflowDefinition } from '@sagaflow/client';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startConsoleStack, type ConsoleStack } from './stack.js';

/**
 * The console as a person uses it (docs/console.md), in Debian's chromium through playwright-core, against a real
 * API + engine + Postgres: enter a key, watch a run go live, find a failed run and redrive it, a bulk dry run then
 * the operation, pause and resume a workflow, what a lower role does not see; axe-core on every page; the §18
 * budgets measured.
 */

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const UI = { timeout: 15_000 };

let stack: ConsoleStack;
let context: BrowserContext;
let page: Page;

const httpStep = (workflow: string, id: string, extra: object = {}): WorkflowDefinition['steps'][number] => ({
  id,
  request: { method: 'POST', url: stack.downstream.urlFor(`/${workflow}/${id}`) },
  ...extra,
});

async function register(definition: WorkflowDefinition): Promise<void> {
  await stack.client.admin.workflows.register(definition);
}

/** A page of the console as a fresh browser session, the key entered through the API key dialog. */
async function signIn(key: string): Promise<Page> {
  await context?.close();
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const fresh = await context.newPage();
  await fresh.goto(`${stack.api.url}/ui/`);
  await fresh.getByRole('button', { name: 'API key' }).click();
  await fresh.getByRole('textbox', { name: 'API key' }).fill(key);
  await fresh.getByRole('button', { name: 'Save' }).click();
  return fresh;
}

/** axe-core on the page as it is: no serious or critical violation (the others are printed). */
async function expectAccessible(where: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  if (violations.length > 0) process.stdout.write(`axe ${where}: ${JSON.stringify(violations)}\n`);
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    where,
  ).toEqual([]);
}

async function screenshot(name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

beforeAll(async () => {
  stack = await startConsoleStack();
  await register({
    name: 'ui-live',
    version: '1.0.0',
    steps: [
      httpStep('live', 'reserve', {
        compensation: { id: 'release', request: { method: 'POST', url: stack.downstream.urlFor('/live/release') } },
      }),
      httpStep('live', 'charge'),
    ],
  });
  await register({
    name: 'ui-fail',
    version: '1.0.0',
    steps: [httpStep('fail', 'charge', { retry: { maxAttempts: 1 } })],
  });
  page = await signIn(KEYS.admin);
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

describe('the console in a browser', () => {
  it('takes the key once per browser session and shows the role; a reload keeps it', async () => {
    await expect.poll(() => page.getByTestId('role').textContent(), UI).toBe('admin');
    await page.reload();
    await expect.poll(() => page.getByTestId('role').textContent(), UI).toBe('admin');
    await expect.poll(() => page.getByRole('heading', { name: 'Runs' }).isVisible(), UI).toBe(true);
    // the key's popover closes with Escape, like the confirmation dialogs
    await page.getByRole('button', { name: 'API key' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'API key' }).count(), UI).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog', { name: 'API key' }).count(), UI).toBe(0);
  });

  it('shows a run going live from RUNNING to COMPLETED on the timeline without a reload', async () => {
    stack.downstream.holdPath('/live/charge');
    const { runId } = await stack.client.workflows.start('ui-live', { input: { orderId: 'o-live' } });
    await stack.downstream.waitForRequest((r) => r.runId === runId && r.stepId === 'charge');
    await page.goto(`${stack.api.url}/ui/runs/${runId}`);
    await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('RUNNING');
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.locator('[data-testid=attempt][data-outcome=RUNNING]').count(), UI).toBe(1);
    await expect.poll(() => timeline.locator('[data-testid=attempt][data-outcome=SUCCEEDED]').count(), UI).toBe(1);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    stack.downstream.releasePath('/live/charge');
    await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('COMPLETED');
    await expect.poll(() => timeline.locator('[data-testid=attempt][data-outcome=SUCCEEDED]').count(), UI).toBe(2);
    expect(await timeline.locator('[data-testid=attempt][data-outcome=RUNNING]').count()).toBe(0);
    expect(navigations).toEqual([]); // no reload: the SSE stream brought it
    const read = await stack.client.runs.get(runId);
    await expect.poll(() => page.getByTestId('run-took').textContent(), UI).toMatch(/^ended .+, took \d/);
    expect(await page.getByTestId('correlation-id').textContent()).toBe(read.run.correlationId);
    const lanes = await timeline
      .getByTestId('lane')
      .evaluateAll((els) => els.map((el) => [el.getAttribute('data-step-id'), el.getAttribute('data-kind')]));
    expect(lanes).toEqual([
      ['reserve', 'action'],
      ['charge', 'action'],
    ]);
    expect(await timeline.getByTestId('idempotency-key').first().textContent()).toBe(`${runId}:reserve`);
    expect(await timeline.locator('[data-testid=attempt]').first().getAttribute('data-http-status')).toBe('200');
    // every attempt's status and duration as text, however narrow its bar (SPEC §17)
    const logs = await timeline.getByTestId('lane-log').allTextContents();
    expect(logs).toHaveLength(2);
    for (const log of logs) expect(log).toMatch(/^#1 200 \d+(\.\d+)? (ms|s)$/);
    await screenshot('run-completed');
    await page.screenshot({
      path: fileURLToPath(new URL('../../../../docs/images/console-run.png', import.meta.url)),
      clip: { x: 0, y: 0, width: 1280, height: 420 },
    });
    await expectAccessible('run page');
  });

  it('finds a failed run by its status chip and redrives it from the run page', async () => {
    stack.downstream.script('/fail/charge', [{ status: 400, body: { error: 'declined' } }]);
    const { runId } = await stack.client.workflows.start('ui-fail', { input: {} });
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('FAILED');
    stack.downstream.script('/fail/charge', [{ status: 200, body: { charged: true } }]);

    await page.goto(`${stack.api.url}/ui/runs`);
    await page.getByTestId('chip-FAILED').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('status'), UI).toBe('FAILED');
    const row = page.locator(`[data-testid=run-row][data-run-id="${runId}"]`);
    await expect.poll(() => row.count(), UI).toBe(1);
    expect(await page.getByTestId('run-row').getByTestId('status').allTextContents()).toEqual(['FAILED']);
    expect(await page.getByTestId('chip-FAILED').textContent()).toContain('1');
    await screenshot('runs-failed');
    await expectAccessible('runs list');

    // the full id: ids (UUIDv7) started in the same minute share their first 8 characters
    await row.getByRole('link', { name: runId, exact: true }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('FAILED');
    await expect.poll(() => page.locator('[data-testid=attempt][data-outcome=FAILED]').count(), UI).toBe(1);
    await page.getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('COMPLETED');
    await expect.poll(() => page.locator('[data-testid=attempt][data-outcome=SUCCEEDED]').count(), UI).toBe(1);
  });

  it('after a redrive, shows the run completed even when the history it reloads already ends with that', async () => {
    // the interleaving that left the page on RUNNING: the action's re-read of the run sees it RUNNING (the step is
    // answered 400 ms later), the reloaded history arrives only once the run has completed, so the stream after it
    // brings nothing
    stack.downstream.script('/fail/charge', [{ status: 400, body: { error: 'declined' } }]);
    const { runId } = await stack.client.workflows.start('ui-fail', { input: {} });
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('FAILED');
    stack.downstream.script('/fail/charge', [{ status: 200, body: { charged: true }, delayMs: 400 }]);
    await page.goto(`${stack.api.url}/ui/runs/${runId}`);
    await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('FAILED');

    const isHistory = (url: URL): boolean => url.pathname === `/v1/runs/${runId}/events`;
    await page.route(isHistory, async (route) => {
      const deadline = Date.now() + WAIT.timeoutMs;
      while ((await stack.client.runs.get(runId)).run.status !== 'COMPLETED' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, WAIT.intervalMs));
      await route.continue();
    });
    try {
      await page.getByRole('button', { name: 'Redrive' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByTestId('run-status').textContent(), UI).toBe('COMPLETED');
    } finally {
      await page.unroute(isHistory);
    }
  });

  it('"retrying now": the chip counts the runs waiting for a retry and filters the list to them', async () => {
    await register({
      name: 'ui-retry',
      version: '1.0.0',
      steps: [httpStep('retry', 'charge', { retry: { maxAttempts: 3, initialIntervalMs: 600_000, jitter: 'none' } })],
    });
    stack.downstream.script('/retry/charge', [{ status: 503 }]);
    const { runId } = await stack.client.workflows.start('ui-retry', { input: {} });
    await expect
      .poll(async () => (await stack.client.runs.get(runId)).steps[0]?.nextAttemptAt ?? null, { timeout: 15_000 })
      .not.toBeNull();

    await page.goto(`${stack.api.url}/ui/runs`);
    await expect.poll(() => page.getByTestId('chip-RETRYING').textContent(), UI).toBe('retrying now 1');
    await page.getByTestId('chip-RETRYING').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('retrying'), UI).toBe('true');
    await expect.poll(() => page.getByTestId('run-row').count(), UI).toBe(1);
    expect(await page.getByTestId('run-row').getAttribute('data-run-id')).toBe(runId);
    await page.getByTestId('run-row').getByRole('link').click();
    await expect.poll(() => page.locator('[data-testid=gap][data-cause=backoff]').count(), UI).toBe(1);
    expect(await page.locator('[data-testid=attempt][data-outcome=RETRYABLE]').getAttribute('data-http-status')).toBe(
      '503',
    );
    await stack.client.runs.cancel(runId);
    expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('CANCELLED');
  });

  it('bulk: "all matching" shows the dry-run count first, then the operation runs to the end', async () => {
    await register({
      name: 'ui-bulk',
      version: '1.0.0',
      steps: [httpStep('bulk', 'charge', { retry: { maxAttempts: 1 } })],
    });
    stack.downstream.script('/bulk/charge', [{ status: 422 }]);
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push((await stack.client.workflows.start('ui-bulk', { input: { i } })).runId);
    for (const runId of runIds)
      expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('FAILED');
    stack.downstream.script('/bulk/charge', [{ status: 200 }]);
    // one more run of the workflow that is not FAILED: "all matching" must count the status filter too
    const completed = (await stack.client.workflows.start('ui-bulk', { input: { i: 3 } })).runId;
    expect((await stack.client.runs.waitForCompletion(completed, WAIT)).run.status).toBe('COMPLETED');

    await page.goto(`${stack.api.url}/ui/runs?workflowName=ui-bulk&status=FAILED`);
    await expect.poll(() => page.getByTestId('run-row').count(), UI).toBe(3);
    await page.getByLabel('Select all matching').check();
    await expect.poll(() => page.getByTestId('selection').textContent(), UI).toBe('all 3 matching');
    await page.getByRole('button', { name: 'Bulk action…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Action').selectOption('redrive');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => dialog.getByTestId('dry-run').textContent(), UI).toBe('matched 3, eligible 3');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => new URL(page.url()).pathname, UI).toMatch(/^\/ui\/operations\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByTestId('operation-status').textContent(), UI).toBe('COMPLETED');
    for (const runId of runIds)
      expect((await stack.client.runs.waitForCompletion(runId, WAIT)).run.status).toBe('COMPLETED');
    await screenshot('operation');
    await expectAccessible('operation page');
  });

  it('bulk on ticked runs: one refused meanwhile does not stop the others, and the dialog says which', async () => {
    await register({ name: 'ui-ticked', version: '1.0.0', steps: [httpStep('ticked', 'charge')] });
    stack.downstream.holdPath('/ticked/charge');
    const runIds: string[] = [];
    for (let i = 0; i < 2; i++) runIds.push((await stack.client.workflows.start('ui-ticked', { input: { i } })).runId);
    for (const runId of runIds) await stack.downstream.waitForRequest((r) => r.runId === runId);
    try {
      await page.goto(`${stack.api.url}/ui/runs?workflowName=ui-ticked`);
      await expect.poll(() => page.getByTestId('run-row').count(), UI).toBe(2);
      for (const runId of runIds) await page.getByLabel(`Select run ${runId}`).check();
      await page.getByRole('button', { name: 'Bulk action…' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Action').selectOption('pause');
      await dialog.getByRole('button', { name: 'Preview' }).click();
      await expect.poll(() => dialog.getByTestId('dry-run').textContent(), UI).toBe('matched 2, eligible 2');
      // the second run is cancelled after the preview: pausing it is refused (409), the first is paused anyway
      await stack.client.runs.cancel(runIds[1]!);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect
        .poll(() => dialog.textContent(), UI)
        .toMatch(new RegExp(`pause: done for 1 of 2 runs; refused: ${runIds[1]}: `));
      expect((await stack.client.runs.get(runIds[0]!)).run.paused).toBe(true);
    } finally {
      stack.downstream.releasePath('/ticked/charge');
    }
    await stack.client.runs.resume(runIds[0]!);
    for (const runId of runIds) await stack.client.runs.waitForCompletion(runId, WAIT);
  });

  it('workflows: the diagram of steps and compensations; pause and resume with confirmation', async () => {
    await page.goto(`${stack.api.url}/ui/workflows`);
    await page.getByRole('link', { name: 'ui-live' }).click();
    const diagram = page.getByTestId('workflow-diagram');
    await expect.poll(() => diagram.getByTestId('diagram-step').count(), UI).toBe(2);
    expect(await diagram.getByTestId('diagram-compensation').count()).toBe(1);
    expect(await page.getByTestId('workflow-paused').textContent()).toBe('active');
    await expectAccessible('workflow page');
    await screenshot('workflow');

    await page.getByRole('button', { name: 'Pause workflow' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('workflow-paused').textContent(), UI).toBe('paused');
    expect((await stack.client.workflows.list()).find((w) => w.name === 'ui-live')?.paused).toBe(true);
    await page.getByRole('button', { name: 'Resume workflow' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('workflow-paused').textContent(), UI).toBe('active');
    expect((await stack.client.workflows.list()).find((w) => w.name === 'ui-live')?.paused).toBe(false);
  });

  it('operations and schedules pages list what exists', async () => {
    await stack.client.admin.schedules.put('ui-nightly', { workflowName: 'ui-live', cron: '0 2 * * *', input: {} });
    await page.goto(`${stack.api.url}/ui/schedules`);
    const schedules = page.getByRole('table', { name: 'Schedules' });
    await expect.poll(() => schedules.getByRole('row').count(), UI).toBe(2);
    expect(await schedules.textContent()).toMatch(/ui-nightly.*0 2 \* \* \*.*in \d+ (h|min)/);
    await expectAccessible('schedules');
    await page.goto(`${stack.api.url}/ui/operations`);
    await expect.poll(() => page.getByRole('table', { name: 'Operations' }).getByRole('row').count(), UI).toBe(2);
    await expectAccessible('operations');
  });

  it('an operator key sees no admin action; a client key cannot list runs', async () => {
    page = await signIn(KEYS.operator);
    await expect.poll(() => page.getByTestId('role').textContent(), UI).toBe('operator');
    // admin pages and "all matching" bulk actions are not offered (SPEC §17: hidden from roles that cannot use them)
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'Runs',
      'Workflows',
    ]);
    await page.goto(`${stack.api.url}/ui/runs?workflowName=ui-live`);
    await expect.poll(() => page.getByRole('button', { name: 'Bulk action…' }).count(), UI).toBe(1);
    expect(await page.getByLabel('Select all matching').count()).toBe(0);
    await page.goto(`${stack.api.url}/ui/workflows/ui-live`);
    await expect.poll(() => page.getByTestId('workflow-diagram').isVisible(), UI).toBe(true);
    expect(await page.getByRole('button', { name: 'Pause workflow' }).count()).toBe(0);
    await page.goto(`${stack.api.url}/ui/operations`);
    await expect.poll(() => page.getByText('Bulk operations need the admin role').isVisible(), UI).toBe(true);

    page = await signIn(KEYS.client);
    await expect.poll(() => page.getByTestId('role').textContent(), UI).toBe('client');
    await expect.poll(() => page.getByText('Searching runs needs the operator role').isVisible(), UI).toBe(true);
    await page.goto(`${stack.api.url}/ui/runs?workflowName=ui-live`);
    expect(await page.getByRole('button', { name: 'Bulk action…' }).count()).toBe(0);
    page = await signIn(KEYS.admin);
  });

  it('budgets (SPEC §18): first-load JavaScript gzip, and a 50-step, 500-attempt run rendered', async () => {
    // the JavaScript index.html loads (scripts and module preloads), gzip-compressed as a server would send it
    const index = readFileSync(`${DIST}index.html`, 'utf8');
    const files = [...index.matchAll(/(?:src|href)="\/ui\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    const gzipBytes = files.reduce((sum, file) => sum + gzipSync(readFileSync(`${DIST}${file}`)).length, 0);
    process.stdout.write(
      `console first load: ${files.length} JS files, ${(gzipBytes / 1024).toFixed(1)} KiB gzip (budget 300 KB)\n`,
    );
    expect(gzipBytes).toBeLessThanOrEqual(300 * 1000);

    // 50 steps, each answering 503 nine times then 200: 500 attempts
    const steps = Array.from({ length: 50 }, (_, i) =>
      httpStep('big', `s${String(i).padStart(2, '0')}`, {
        retry: { maxAttempts: 10, initialIntervalMs: 1, backoffCoefficient: 1, maxIntervalMs: 1, jitter: 'none' },
      }),
    );
    await register({ name: 'ui-big', version: '1.0.0', steps });
    for (const step of steps)
      stack.downstream.script(`/big/${step.id}`, (_request, nth) => (nth < 10 ? { status: 503 } : { status: 200 }));
    const { runId } = await stack.client.workflows.start('ui-big', { input: {} });
    expect((await stack.client.runs.waitForCompletion(runId, { timeoutMs: 120_000, intervalMs: 200 })).run.status).toBe(
      'COMPLETED',
    );

    await page.goto(`${stack.api.url}/ui/runs/${runId}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=attempt]').length >= 500, undefined, {
      timeout: 30_000,
    });
    const renderedMs = await page.evaluate(() => performance.now());
    expect(await page.locator('[data-testid=attempt]').count()).toBe(500);
    expect(await page.locator('[data-testid=gap][data-cause=backoff]').count()).toBe(450);
    process.stdout.write(
      `console: 50-step, 500-attempt run rendered ${renderedMs.toFixed(0)} ms after navigation (budget 1 s)\n`,
    );
    await screenshot('run-500-attempts');
  });
});
