import { defineCommand } from '../command.js';
import { colorStatus } from '../output.js';

export const runsRetry = defineCommand({
  group: 'runs',
  name: 'retry <runId> <stepId>',
  summary: "Run a FAILED step's action, or its FAILED compensation, again",
  examples: ['sagaflow runs retry 0193b5c2-… charge-payment'],
  async run(ctx, [runId = '', stepId = '']) {
    const accepted = await ctx.client.runs.retryStep(runId, stepId);
    if (ctx.json) ctx.out.json(accepted);
    else
      ctx.out.line(
        `run ${accepted.runId} step ${accepted.stepId} retried: ${colorStatus(ctx.out.colors, accepted.status)}`,
      );
  },
});
