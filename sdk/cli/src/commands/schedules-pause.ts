import { defineCommand } from '../command.js';

export const schedulesPause = defineCommand({
  group: 'schedules',
  name: 'pause <scheduleId>',
  summary: 'Pause a schedule: it does not fire until resumed',
  examples: ['sagaflow schedules pause nightly-report'],
  async run(ctx, [id = '']) {
    const schedule = await ctx.client.admin.schedules.pause(id);
    if (ctx.json) ctx.out.json(schedule);
    else ctx.out.line(`schedule ${schedule.id} ${ctx.out.colors.yellow('paused')}`);
  },
});
