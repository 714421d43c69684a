import { defineCommand } from '../command.js';
import { CommandFailed, EXIT } from '../errors.js';
import { renderRunView } from '../format/run-view.js';
import { parseSeconds, readJsonObject } from '../input.js';
import { colorStatus } from '../output.js';

interface StartFlags {
  input?: string;
  context?: string;
  version?: string;
  idempotencyKey?: string;
  correlationId?: string;
  wait?: boolean;
  timeout: string;
}

export const start = defineCommand<StartFlags>({
  name: 'start <workflow>',
  summary: 'Start a run of a workflow (the highest version unless --version)',
  options: [
    {
      flags: '-i, --input <json|@file>',
      description: 'the run input: a JSON object, or @file, or @- for stdin',
      default: '{}',
    },
    { flags: '-c, --context <json|@file>', description: 'the run context: a JSON object, or @file' },
    { flags: '--version <semver>', description: 'the workflow version (default: the highest registered)' },
    {
      flags: '-k, --idempotency-key <key>',
      description: 'same key + same body → the same run again, never a second one',
    },
    { flags: '--correlation-id <id>', description: 'the run’s correlation id (generated when absent)' },
    { flags: '-w, --wait', description: 'wait until the run is terminal; exit 1 unless it COMPLETED' },
    { flags: '--timeout <seconds>', description: 'with --wait: give up (exit 1) after this long', default: '600' },
  ],
  examples: [
    'sagaflow start order-processing --input \'{"orderId":"o-1","amount":42}\' --idempotency-key o-1',
    'sagaflow start order-processing --input @order.json --context \'{"tenantId":"acme"}\' --wait',
  ],
  async run(ctx, [workflow = ''], flags) {
    const input = readJsonObject(flags.input ?? '{}', '--input');
    const context = flags.context !== undefined ? readJsonObject(flags.context, '--context') : undefined;
    const timeoutMs = parseSeconds(flags.timeout, '--timeout') * 1000;
    const started = await ctx.client.workflows.start(
      workflow,
      { input, ...(context ? { context } : {}), ...(flags.version ? { version: flags.version } : {}) },
      {
        ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
        ...(flags.correlationId ? { correlationId: flags.correlationId } : {}),
      },
    );
    if (!flags.wait) {
      if (ctx.json) ctx.out.json(started);
      else {
        ctx.out.line(
          `started run ${ctx.out.colors.bold(started.runId)} of ${workflow} (${colorStatus(ctx.out.colors, started.status)})`,
        );
        ctx.out.line(ctx.out.colors.dim(`follow it: sagaflow runs events ${started.runId} --follow`));
      }
      return;
    }
    if (!ctx.json) ctx.out.error(ctx.out.colors.dim(`started run ${started.runId}; waiting until it is terminal…`));
    const view = await ctx.client.runs.waitForCompletion(started.runId, { timeoutMs, intervalMs: 200 });
    if (ctx.json) ctx.out.json(view);
    else ctx.out.line(renderRunView(ctx.out.colors, view));
    if (view.run.status === 'COMPLETED') return EXIT.ok;
    // like `temporal workflow execute`: a script can `sagaflow start … --wait && next-step`
    throw new CommandFailed(`run ${view.run.runId} ended ${view.run.status}`, `RUN_${view.run.status}`);
  },
});
