import { defineCommand } from '../command.js';

export const schedulesTrigger = defineCommand({
  group: 'schedules',
  name: 'trigger <scheduleId>',
  summary: 'Start one run of a schedule now, whatever its overlap policy',
  examples: ['sagaflow schedules trigger nightly-report'],
  async run(ctx, [id = '']) {
    const triggered = await ctx.client.admin.schedules.trigger(id);
    if (ctx.json) ctx.out.json(triggered);
    else
      ctx.out.line(
        `schedule ${triggered.scheduleId} started run ${ctx.out.colors.bold(triggered.runId)} of ${triggered.workflowName}`,
      );
  },
});
