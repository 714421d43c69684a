import { defineCommand } from '../command.js';
import { CommandFailed } from '../errors.js';

export const workflowsGet = defineCommand({
  group: 'workflows',
  name: 'get <name> [version]',
  summary: 'Print a registered definition exactly as registered (the highest version unless one is given)',
  examples: ['sagaflow workflows get order-processing', 'sagaflow workflows get order-processing 1.2.0 > order.json'],
  async run(ctx, [name = '', given]) {
    let version = given;
    if (version === undefined) {
      const found = (await ctx.client.workflows.list()).find((workflow) => workflow.name === name);
      if (!found) throw new CommandFailed(`no workflow named "${name}"`, 'NOT_FOUND');
      version = found.latestVersion;
    }
    const registered = await ctx.client.workflows.get(name, version);
    if (ctx.json) {
      ctx.out.json(registered);
      return;
    }
    // the definition alone on stdout, so that it can be edited and applied again; where it came from on stderr
    ctx.out.error(
      ctx.out.colors.dim(`${name}@${version} registered ${registered.registeredAt} sha256 ${registered.sha256}`),
    );
    ctx.out.json(registered.definition);
  },
});
