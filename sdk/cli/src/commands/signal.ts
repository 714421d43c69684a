import { defineCommand } from '../command.js';
import { parseJson, readText } from '../input.js';

interface SignalFlags {
  payload?: string;
  idempotencyKey?: string;
}

export const signal = defineCommand<SignalFlags>({
  name: 'signal <runId> <name>',
  summary: 'Send a signal to a run’s mailbox (a waitForSignal step of that name consumes it, oldest first)',
  options: [
    { flags: '-p, --payload <json|@file>', description: 'the signal’s payload: any JSON, or @file, or @- for stdin' },
    {
      flags: '-k, --idempotency-key <key>',
      description: 'same key + same payload → the same signal again, never a second one',
    },
  ],
  examples: [
    'sagaflow signal 0193b5c2-… approval --payload \'{"approved":true}\'',
    'sagaflow signal 0193b5c2-… approval --payload @approval.json --idempotency-key approval-1',
  ],
  async run(ctx, [runId = '', name = ''], flags) {
    const payload =
      flags.payload === undefined
        ? undefined
        : parseJson(
            flags.payload.startsWith('@') ? readText(flags.payload.slice(1), '--payload') : flags.payload,
            '--payload',
          );
    const accepted = await ctx.client.runs.signal(
      runId,
      name,
      payload,
      flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {},
    );
    if (ctx.json) ctx.out.json(accepted);
    else
      ctx.out.line(
        `signal ${accepted.signalId} (${accepted.name}) in the mailbox of run ${accepted.runId}` +
          (accepted.consumed ? ', already consumed' : ''),
      );
  },
});
