import { defineCommand } from '../command.js';
import { FILTER_OPTIONS, parseFilters, type FilterFlags } from '../filters.js';
import { colorStatus, renderTable } from '../output.js';

export const runsCounts = defineCommand<FilterFlags>({
  group: 'runs',
  name: 'counts',
  summary: 'Count the runs matching filters, in all and per status',
  options: FILTER_OPTIONS,
  examples: [
    'sagaflow runs counts --workflow order-processing',
    'sagaflow runs counts --created-after 2026-12-01 --json',
  ],
  async run(ctx, _args, flags) {
    const counts = await ctx.client.runs.counts(parseFilters(flags));
    if (ctx.json) {
      ctx.out.json(counts);
      return;
    }
    const { colors } = ctx.out;
    const rows = Object.entries(counts.byStatus).map(([status, count]) => [
      colorStatus(colors, status),
      count > 0 ? String(count) : colors.dim('0'),
    ]);
    rows.push([colors.bold('TOTAL'), colors.bold(String(counts.total))]);
    ctx.out.line(renderTable(colors, ['STATUS', 'RUNS'], rows));
  },
});
