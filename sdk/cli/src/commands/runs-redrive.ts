import { defineCommand } from '../command.js';
import { colorStatus } from '../output.js';

export const runsRedrive = defineCommand<{ reason?: string }>({
  group: 'runs',
  name: 'redrive <runId>',
  summary: 'Run a FAILED run again from what failed (its failed compensation, else its failed step)',
  options: [{ flags: '-r, --reason <text>', description: 'why (kept in the run’s history)' }],
  examples: ['sagaflow runs redrive 0193b5c2-… --reason "payments fixed"'],
  async run(ctx, [runId = ''], flags) {
    const accepted = await ctx.client.runs.redrive(runId, flags.reason !== undefined ? { reason: flags.reason } : {});
    if (ctx.json) ctx.out.json(accepted);
    else
      ctx.out.line(
        `run ${accepted.runId} ${colorStatus(ctx.out.colors, accepted.status)}: ${accepted.kind} of step ${accepted.stepId} runs again`,
      );
  },
});
