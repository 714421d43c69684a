import { defineCommand } from '../command.js';
import { parseCount } from '../filters.js';
import { colorOperationStatus, progressText } from '../format/operation.js';
import { formatRelative, renderTable } from '../output.js';

export const opsList = defineCommand<{ limit: string; cursor?: string }>({
  group: 'ops',
  name: 'list',
  summary: 'List operations, newest first',
  options: [
    { flags: '-l, --limit <n>', description: 'operations per page', default: '20' },
    { flags: '--cursor <cursor>', description: 'the page after this one (a previous page’s nextCursor)' },
  ],
  examples: ['sagaflow ops list', 'sagaflow ops list --json'],
  async run(ctx, _args, flags) {
    const limit = parseCount(flags.limit, '--limit');
    const page = await ctx.client.admin.operations.list({ limit, ...(flags.cursor ? { cursor: flags.cursor } : {}) });
    if (ctx.json) {
      ctx.out.json(page);
      return;
    }
    const { colors } = ctx.out;
    const now = Date.now();
    ctx.out.line(
      renderTable(
        colors,
        ['OPERATION', 'ACTION', 'STATUS', 'PROGRESS', 'CREATED'],
        page.items.map((operation) => [
          operation.operationId,
          operation.action,
          colorOperationStatus(colors, operation.status),
          progressText(operation),
          colors.dim(formatRelative(operation.createdAt, now)),
        ]),
      ),
    );
    if (page.nextCursor) ctx.out.error(colors.dim(`more: add --cursor ${page.nextCursor}`));
  },
});
