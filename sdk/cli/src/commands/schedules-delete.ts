import { defineCommand } from '../command.js';

export const schedulesDelete = defineCommand({
  group: 'schedules',
  name: 'delete <scheduleId>',
  summary: 'Delete a schedule (its runs stay)',
  examples: ['sagaflow schedules delete nightly-report'],
  async run(ctx, [id = '']) {
    await ctx.client.admin.schedules.delete(id);
    if (ctx.json) ctx.out.json({ id, deleted: true });
    else ctx.out.line(`schedule ${id} deleted`);
  },
});
