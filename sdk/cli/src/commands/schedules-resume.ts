import { defineCommand } from '../command.js';

export const schedulesResume = defineCommand({
  group: 'schedules',
  name: 'resume <scheduleId>',
  summary: 'Resume a paused schedule: it fires again from the first fire time after now',
  examples: ['sagaflow schedules resume nightly-report'],
  async run(ctx, [id = '']) {
    const schedule = await ctx.client.admin.schedules.resume(id);
    if (ctx.json) ctx.out.json(schedule);
    else ctx.out.line(`schedule ${schedule.id} resumed; next fire ${schedule.nextFireAt ?? '-'}`);
  },
});
