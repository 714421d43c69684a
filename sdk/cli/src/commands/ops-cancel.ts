import { defineCommand } from '../command.js';
import { colorOperationStatus } from '../format/operation.js';

export const opsCancel = defineCommand({
  group: 'ops',
  name: 'cancel <operationId>',
  summary: 'Stop a RUNNING operation before its next run (runs already acted on stay so)',
  examples: ['sagaflow ops cancel 0193b5c2-…'],
  async run(ctx, [operationId = '']) {
    const cancelled = await ctx.client.admin.operations.cancel(operationId);
    if (ctx.json) ctx.out.json(cancelled);
    else ctx.out.line(`operation ${cancelled.operationId} ${colorOperationStatus(ctx.out.colors, cancelled.status)}`);
  },
});
