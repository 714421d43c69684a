import { defineCommand } from '../command.js';
import { colorStatus } from '../output.js';

export const runsCancel = defineCommand({
  group: 'runs',
  name: 'cancel <runId>',
  summary: 'Cancel a PENDING or RUNNING run (its succeeded steps are compensated first)',
  examples: ['sagaflow runs cancel 0193b5c2-…'],
  async run(ctx, [runId = '']) {
    const accepted = await ctx.client.runs.cancel(runId);
    if (ctx.json) ctx.out.json(accepted);
    else ctx.out.line(`run ${accepted.runId} ${colorStatus(ctx.out.colors, accepted.status)}`);
  },
});
