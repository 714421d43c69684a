import type { RunEvent } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import { renderEventLine } from '../format/event-line.js';
import { UsageError } from '../errors.js';

interface EventsOptions {
  follow?: boolean;
  after?: string;
}

const PAGE = 1000;

export const runsEvents = defineCommand<EventsOptions>({
  group: 'runs',
  name: 'events <runId>',
  summary: "A run's history, one line per event; --follow streams it live until the run is terminal",
  options: [
    { flags: '-f, --follow', description: 'keep streaming new events until the run ends (NDJSON with --json)' },
    { flags: '--after <seq>', description: 'start after this event number', default: '0' },
  ],
  examples: [
    'sagaflow runs events 0193b5c2-…',
    'sagaflow runs events 0193b5c2-… --follow',
    'sagaflow runs events 0193b5c2-… --follow --json | jq -c "select(.type == \\"ATTEMPT_FINISHED\\")"',
  ],
  async run(ctx, [runId = ''], options) {
    const after = Number(options.after ?? '0');
    if (!Number.isInteger(after) || after < 0)
      throw new UsageError(`--after: expected an event number ≥ 0, got "${options.after}"`);
    let firstAt: string | undefined;
    const print = (event: RunEvent): void => {
      firstAt ??= event.at;
      if (ctx.json) ctx.out.ndjson(event);
      else ctx.out.line(renderEventLine(ctx.out.colors, event, firstAt));
    };

    if (options.follow) {
      // the SSE stream: history first, then live; resumes after a dropped connection; ends after the terminal event
      for await (const event of ctx.client.runs.watch(runId, { after, signal: ctx.signal })) print(event);
      return;
    }

    const events: RunEvent[] = [];
    let page = await ctx.client.runs.events(runId, { after, limit: PAGE });
    events.push(...page.events);
    while (page.events.length === PAGE) {
      page = await ctx.client.runs.events(runId, { after: page.nextAfter, limit: PAGE });
      events.push(...page.events);
    }
    const { terminal } = page;
    if (ctx.json) {
      ctx.out.json({ runId, events, terminal });
      return;
    }
    for (const event of events) print(event);
    if (!terminal)
      ctx.out.line(ctx.out.colors.dim(`(the run is not terminal yet: sagaflow runs events ${runId} --follow)`));
  },
});
