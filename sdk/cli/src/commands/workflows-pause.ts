import { defineCommand } from '../command.js';

export const workflowsPause = defineCommand<{ reason?: string }>({
  group: 'workflows',
  name: 'pause <name>',
  summary: 'Pause a workflow: starts are still accepted, nothing of its runs is dispatched until resume (admin)',
  options: [{ flags: '-r, --reason <text>', description: 'why (kept in the API’s log)' }],
  examples: ['SAGAFLOW_ADMIN_TOKEN=… sagaflow workflows pause order-processing --reason "downstream maintenance"'],
  async run(ctx, [name = ''], flags) {
    const state = await ctx.client.admin.workflows.pause(
      name,
      flags.reason !== undefined ? { reason: flags.reason } : {},
    );
    if (ctx.json) ctx.out.json(state);
    else ctx.out.line(`workflow ${state.name} ${state.paused ? ctx.out.colors.yellow('paused') : 'not paused'}`);
  },
});
