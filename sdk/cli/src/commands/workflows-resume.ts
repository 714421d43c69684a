import { defineCommand } from '../command.js';

export const workflowsResume = defineCommand<{ reason?: string }>({
  group: 'workflows',
  name: 'resume <name>',
  summary: 'Resume a paused workflow: its runs’ waiting work is dispatched again (admin)',
  options: [{ flags: '-r, --reason <text>', description: 'why (kept in the API’s log)' }],
  examples: ['SAGAFLOW_ADMIN_TOKEN=… sagaflow workflows resume order-processing --reason "maintenance over"'],
  async run(ctx, [name = ''], flags) {
    const state = await ctx.client.admin.workflows.resume(
      name,
      flags.reason !== undefined ? { reason: flags.reason } : {},
    );
    if (ctx.json) ctx.out.json(state);
    else ctx.out.line(`workflow ${state.name} ${state.paused ? ctx.out.colors.yellow('paused') : 'not paused'}`);
  },
});
