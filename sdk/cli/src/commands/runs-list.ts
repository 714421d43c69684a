import type { RunPage, RunSummary } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import { FILTER_OPTIONS, parseCount, parseFilters, type FilterFlags } from '../filters.js';
import { colorStatus, formatRelative, renderTable, type Colors } from '../output.js';

interface RunsListFlags extends FilterFlags {
  limit: string;
  cursor?: string;
  all?: boolean;
}

function row(colors: Colors, run: RunSummary, now: number): string[] {
  const status = colorStatus(colors, run.status) + (run.paused ? colors.yellow(' (paused)') : '');
  const error = run.error ? `${run.error.code}${run.error.stepId ? ` at ${run.error.stepId}` : ''}` : '';
  return [
    run.runId,
    `${run.workflowName}@${run.workflowVersion}`,
    status,
    colors.dim(formatRelative(run.createdAt, now)),
    colors.red(error),
  ];
}

const HEAD = ['RUN', 'WORKFLOW', 'STATUS', 'CREATED', 'ERROR'];

export const runsList = defineCommand<RunsListFlags>({
  group: 'runs',
  name: 'list',
  summary: 'List runs matching filters, newest first (one page, or every page with --all)',
  options: [
    ...FILTER_OPTIONS,
    {
      flags: '-l, --limit <n>',
      description: 'runs per page (with --all: the page size of each request)',
      default: '50',
    },
    { flags: '--cursor <cursor>', description: 'the page after this one (a previous page’s nextCursor)' },
    {
      flags: '-a, --all',
      description: 'every matching run, page after page (--json: one document { items, nextCursor: null })',
    },
  ],
  examples: [
    'sagaflow runs list --status FAILED,COMPENSATED --workflow order-processing',
    'sagaflow runs list --context \'{"tenantId":"acme"}\' --created-after 2026-12-01',
    "sagaflow runs list --status FAILED --all --json | jq -r '.items[].runId'",
  ],
  async run(ctx, _args, flags) {
    const filters = parseFilters(flags);
    const limit = parseCount(flags.limit, '--limit');
    const { colors } = ctx.out;
    let page: RunPage;
    if (flags.all) {
      // every page, then one output: with --json one document shaped like a single page's (SPEC §16: NDJSON is
      // for --follow only), so `jq '.items[]'` reads both; Ctrl-C prints nothing
      const items: RunSummary[] = [];
      for await (const run of ctx.client.runs.listAll({ ...filters, pageSize: limit })) {
        if (ctx.signal.aborted) return;
        items.push(run);
      }
      if (ctx.signal.aborted) return;
      page = { items, nextCursor: null };
    } else {
      page = await ctx.client.runs.list({ ...filters, limit, ...(flags.cursor ? { cursor: flags.cursor } : {}) });
    }
    if (ctx.json) {
      ctx.out.json(page);
      return;
    }
    const now = Date.now();
    ctx.out.line(
      renderTable(
        colors,
        HEAD,
        page.items.map((run) => row(colors, run, now)),
        { width: ctx.out.width, keep: [0, 2] },
      ),
    );
    if (flags.all) ctx.out.error(colors.dim(`${page.items.length} run${page.items.length === 1 ? '' : 's'}`));
    else if (page.nextCursor)
      ctx.out.error(colors.dim(`more: add --cursor ${page.nextCursor} for the next page, or --all for every page`));
  },
});
