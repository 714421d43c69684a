import { defineCommand } from '../command.js';
import { colorStatus } from '../output.js';

export const runsResume = defineCommand<{ reason?: string }>({
  group: 'runs',
  name: 'resume <runId>',
  summary: 'Resume a paused run: what became due while it was paused runs at once',
  options: [{ flags: '-r, --reason <text>', description: 'why (kept in the run’s history)' }],
  examples: ['sagaflow runs resume 0193b5c2-… --reason "maintenance over"'],
  async run(ctx, [runId = ''], flags) {
    const state = await ctx.client.runs.resume(runId, flags.reason !== undefined ? { reason: flags.reason } : {});
    if (ctx.json) ctx.out.json(state);
    else
      ctx.out.line(
        `run ${state.runId} ${colorStatus(ctx.out.colors, state.status)}${state.paused ? ctx.out.colors.yellow(' paused') : ' not paused'}`,
      );
  },
});
