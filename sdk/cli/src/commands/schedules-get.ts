import { defineCommand } from '../command.js';
import { renderSchedule } from '../format/schedule.js';

export const schedulesGet = defineCommand({
  group: 'schedules',
  name: 'get <scheduleId>',
  summary: 'Show a schedule: workflow, cron, next and last fire, counters',
  examples: ['sagaflow schedules get nightly-report'],
  async run(ctx, [id = '']) {
    const schedule = await ctx.client.admin.schedules.get(id);
    if (ctx.json) ctx.out.json(schedule);
    else ctx.out.line(renderSchedule(ctx.out.colors, schedule));
  },
});
