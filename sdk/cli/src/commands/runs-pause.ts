import { defineCommand } from '../command.js';
import { colorStatus } from '../output.js';

export const runsPause = defineCommand<{ reason?: string }>({
  group: 'runs',
  name: 'pause <runId>',
  summary: 'Pause a run: no new attempt starts until it is resumed (already paused: no change)',
  options: [{ flags: '-r, --reason <text>', description: 'why (kept in the run’s history)' }],
  examples: ['sagaflow runs pause 0193b5c2-… --reason "downstream maintenance"'],
  async run(ctx, [runId = ''], flags) {
    const state = await ctx.client.runs.pause(runId, flags.reason !== undefined ? { reason: flags.reason } : {});
    if (ctx.json) ctx.out.json(state);
    else
      ctx.out.line(
        `run ${state.runId} ${colorStatus(ctx.out.colors, state.status)}${state.paused ? ctx.out.colors.yellow(' paused') : ' not paused'}`,
      );
  },
});
