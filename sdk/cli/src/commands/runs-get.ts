import { defineCommand } from '../command.js';
import { renderRunView } from '../format/run-view.js';

export const runsGet = defineCommand({
  group: 'runs',
  name: 'get <runId>',
  summary: 'Show a run: status, error, input, context and its steps',
  examples: ['sagaflow runs get 0193b5c2-…', 'sagaflow runs get 0193b5c2-… --json | jq .run.status'],
  async run(ctx, [runId = '']) {
    const view = await ctx.client.runs.get(runId);
    if (ctx.json) ctx.out.json(view);
    else ctx.out.line(renderRunView(ctx.out.colors, view));
  },
});
