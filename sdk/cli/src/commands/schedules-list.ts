import { defineCommand } from '../command.js';
import { SCHEDULE_HEAD, scheduleRow } from '../format/schedule.js';
import { renderTable } from '../output.js';

export const schedulesList = defineCommand({
  group: 'schedules',
  name: 'list',
  summary: 'List the schedules with their next and last fire times',
  examples: ['sagaflow schedules list', 'sagaflow schedules list --json'],
  async run(ctx) {
    const schedules = await ctx.client.admin.schedules.list();
    if (ctx.json) {
      ctx.out.json({ items: schedules });
      return;
    }
    const now = Date.now();
    ctx.out.line(
      renderTable(
        ctx.out.colors,
        SCHEDULE_HEAD,
        schedules.map((schedule) => scheduleRow(ctx.out.colors, schedule, now)),
      ),
    );
  },
});
