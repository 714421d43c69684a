import { createInterface } from 'node:readline/promises';
import type { Operation, OperationAction } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import { CommandFailed, EXIT, UsageError } from '../errors.js';
import { FILTER_OPTIONS, parseFilters, type FilterFlags } from '../filters.js';
import { colorOperationStatus, progressBar, progressText, renderOperation } from '../format/operation.js';

const ACTIONS: readonly OperationAction[] = ['cancel', 'redrive', 'pause', 'resume'];

interface OpsCreateFlags extends FilterFlags {
  action: string;
  dryRun?: boolean;
  rate?: string;
  reason?: string;
  yes?: boolean;
  interval: string;
}

const delay = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Asks (the question on stderr, so stdout stays the result) and reads one answer line from stdin, a terminal or a
 * pipe (`echo y | sagaflow ops create …`); true for y/yes. Stdin ending without an answer is a usage error.
 */
async function confirm(question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    const answer = await Promise.race([rl.question(question, { signal }), closed]);
    if (answer === undefined && !signal.aborted)
      throw new UsageError('no answer on stdin: add --yes to act without asking (or --dry-run to only count)');
    return /^y(es)?$/i.test((answer ?? '').trim());
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return false; // Ctrl-C at the prompt
  } finally {
    rl.close();
  }
}

export const opsCreate = defineCommand<OpsCreateFlags>({
  group: 'ops',
  name: 'create',
  summary: 'Apply an action to every run a filter matches (dry run first, then confirm, then follow its progress)',
  options: [
    { flags: '--action <action>', description: `what to do to each run: ${ACTIONS.join(', ')} (required)` },
    ...FILTER_OPTIONS,
    { flags: '--dry-run', description: 'only show how many runs match and are eligible; change nothing' },
    { flags: '--rate <perSecond>', description: 'runs acted on per second (the API’s default: 50)' },
    { flags: '-r, --reason <text>', description: 'why (kept in each run’s history)' },
    { flags: '-y, --yes', description: 'do not ask for confirmation (else the answer is read from stdin)' },
    { flags: '--interval <ms>', description: 'how often the progress is polled', default: '500' },
  ],
  examples: [
    'sagaflow ops create --action redrive --status FAILED --error-code STEP_FAILED --step charge-payment --dry-run',
    'sagaflow ops create --action cancel --workflow order-processing --status RUNNING --reason "bad deploy"',
    'sagaflow ops create --action pause --context \'{"tenantId":"acme"}\' --rate 20 --yes --json',
  ],
  async run(ctx, _args, flags) {
    // the whole command line is checked before anything is sent
    if (flags.action === undefined)
      throw new UsageError('--action is required (one of cancel, redrive, pause, resume)');
    const action = flags.action.toLowerCase() as OperationAction;
    if (!ACTIONS.includes(action))
      throw new UsageError(`--action: expected one of ${ACTIONS.join(', ')}, got "${flags.action}"`);
    const filter = parseFilters(flags);
    const ratePerSecond = flags.rate !== undefined ? Number(flags.rate) : undefined;
    if (ratePerSecond !== undefined && !(Number.isFinite(ratePerSecond) && ratePerSecond > 0))
      throw new UsageError(`--rate: expected a positive number of runs per second, got "${flags.rate}"`);
    const intervalMs = Number(flags.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < 50)
      throw new UsageError(`--interval: expected milliseconds ≥ 50, got "${flags.interval}"`);

    const request = {
      action,
      filter,
      ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
      ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    };
    const { colors } = ctx.out;
    const dry = await ctx.client.admin.operations.create({ ...request, dryRun: true });
    if (flags.dryRun) {
      if (ctx.json) ctx.out.json(dry);
      else {
        ctx.out.line(`${action}: ${dry.matched} runs match, ${colors.bold(String(dry.eligible))} eligible`);
        if (dry.sample.length) ctx.out.line(colors.dim(`e.g. ${dry.sample.join(' ')}`));
      }
      return;
    }
    if (!ctx.json)
      ctx.out.error(`${action}: ${dry.matched} runs match, ${colors.bold(String(dry.eligible))} eligible now`);
    if (dry.eligible === 0) {
      // nothing to act on: no operation is created
      if (ctx.json) ctx.out.json({ dryRun: dry, operation: null });
      else ctx.out.line('nothing to do: no matching run is eligible');
      return;
    }
    if (!flags.yes) {
      const yes = await confirm(`${action} ${dry.eligible} runs? [y/N] `, ctx.signal);
      if (!yes) throw new CommandFailed('not confirmed: nothing was done', 'ABORTED');
    }

    const created = await ctx.client.admin.operations.create(request);
    if (!ctx.json) ctx.out.error(`operation ${colors.bold(created.operationId)} created (${created.matched} runs)`);
    const live = !ctx.json && process.stderr.isTTY;
    let operation: Operation = await ctx.client.admin.operations.get(created.operationId);
    let last = '';
    for (;;) {
      const line = `${progressBar(operation)} ${colorOperationStatus(colors, operation.status)} ${progressText(operation)}`;
      if (!ctx.json && line !== last) {
        // on a terminal one line refreshed in place; else one line per change
        if (live) process.stderr.write(`\r\x1b[2K${line}`);
        else ctx.out.error(line);
        last = line;
      }
      if (operation.status !== 'RUNNING') break;
      await delay(intervalMs, ctx.signal);
      if (ctx.signal.aborted) {
        if (live) process.stderr.write('\n');
        ctx.out.error(`the operation goes on; follow it: sagaflow ops get ${operation.operationId}`);
        return;
      }
      operation = await ctx.client.admin.operations.get(created.operationId);
    }
    if (live) process.stderr.write('\n');
    if (ctx.json) ctx.out.json(operation);
    else ctx.out.line(renderOperation(colors, operation));
    if (operation.status === 'COMPLETED' && operation.failed === 0) return EXIT.ok;
    throw new CommandFailed(
      operation.status === 'CANCELLED'
        ? `operation ${operation.operationId} was cancelled`
        : `operation ${operation.operationId}: ${operation.failed} runs failed`,
      operation.status === 'CANCELLED' ? 'OPERATION_CANCELLED' : 'OPERATION_FAILURES',
    );
  },
});
