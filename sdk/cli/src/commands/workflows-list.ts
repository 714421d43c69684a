import { defineCommand } from '../command.js';
import { renderTable } from '../output.js';

export const workflowsList = defineCommand({
  group: 'workflows',
  name: 'list',
  summary: 'List the registered workflows, their versions and whether they are paused',
  examples: ['sagaflow workflows list', 'sagaflow workflows list --json'],
  async run(ctx) {
    const workflows = await ctx.client.workflows.list();
    if (ctx.json) {
      ctx.out.json({ items: workflows });
      return;
    }
    const { colors } = ctx.out;
    ctx.out.line(
      renderTable(
        colors,
        ['WORKFLOW', 'LATEST', 'VERSIONS', 'PAUSED', 'DESCRIPTION'],
        workflows.map((workflow) => [
          workflow.name,
          workflow.latestVersion,
          workflow.versions.join(', '),
          workflow.paused ? colors.yellow('paused') : colors.dim('no'),
          workflow.description ?? '',
        ]),
      ),
    );
  },
});
