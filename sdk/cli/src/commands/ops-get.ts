import { defineCommand } from '../command.js';
import { renderOperation } from '../format/operation.js';

export const opsGet = defineCommand({
  group: 'ops',
  name: 'get <operationId>',
  summary: 'Show an operation: its action, filter, status, progress and first failures',
  examples: ['sagaflow ops get 0193b5c2-…'],
  async run(ctx, [operationId = '']) {
    const operation = await ctx.client.admin.operations.get(operationId);
    if (ctx.json) ctx.out.json(operation);
    else ctx.out.line(renderOperation(ctx.out.colors, operation));
  },
});
