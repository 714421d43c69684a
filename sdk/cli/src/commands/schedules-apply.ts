import { SagaFlowError, type ScheduleRequest } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { parseJson, readText } from '../input.js';
import { renderTable } from '../output.js';

interface Applied {
  file: string;
  id: string;
  /** created: new; updated: replaced (PUT is idempotent: the same document again is `updated` too); refused: see error. */
  result: 'created' | 'updated' | 'refused';
  nextFireAt?: string | null;
  error?: { status: number; code: string; message: string; issues?: unknown[] };
}

/** The schedules in one file: `{ "id": …, "workflowName": …, "cron": …, … }` or an array of them. */
function readSchedules(file: string): Array<{ id: string; body: ScheduleRequest }> {
  const parsed = parseJson(readText(file, file), file);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new UsageError(`${file}: expected a schedule (a JSON object with "id") or an array of them`);
    const { id, ...body } = item as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') throw new UsageError(`${file}: every schedule needs a string "id"`);
    return { id, body: body as unknown as ScheduleRequest };
  });
}

export const schedulesApply = defineCommand({
  group: 'schedules',
  name: 'apply <files...>',
  summary: 'Create or replace schedules from JSON files (each file: {"id", "workflowName", "cron", …} or an array)',
  examples: [
    'sagaflow schedules apply schedules/*.json',
    `echo '{"id":"nightly","workflowName":"report","cron":"0 2 * * *","input":{}}' > s.json && sagaflow schedules apply s.json`,
  ],
  async run(ctx, files) {
    // read and parse every file first: a usage error (exit 2) changes nothing
    const schedules = files.flatMap((file) => readSchedules(file).map((schedule) => ({ file, ...schedule })));
    const results: Applied[] = [];
    for (const { file, id, body } of schedules) {
      try {
        const put = await ctx.client.admin.schedules.put(id, body);
        results.push({ file, id, result: put.created ? 'created' : 'updated', nextFireAt: put.nextFireAt });
      } catch (error) {
        // a refusal of one schedule does not stop the others; 401/403 and an unreachable API stop everything
        if (!(error instanceof SagaFlowError) || error.status === 401 || error.status === 403) throw error;
        const { status, code, message, issues } = error;
        results.push({ file, id, result: 'refused', error: { status, code, message, ...(issues ? { issues } : {}) } });
        if (!ctx.json) ctx.out.error(ctx.out.colors.red(`${id} (${file}): ${code}: ${message}`));
      }
    }
    if (ctx.json) ctx.out.json({ results });
    else {
      const { colors } = ctx.out;
      const label = { created: colors.green('created'), updated: 'updated', refused: colors.red('refused') };
      ctx.out.line(
        renderTable(
          colors,
          ['SCHEDULE', 'RESULT', 'NEXT', 'FILE'],
          results.map((applied) => [
            applied.id,
            label[applied.result],
            applied.nextFireAt ?? colors.dim('-'),
            applied.file,
          ]),
        ),
      );
    }
    return results.some((applied) => applied.result === 'refused') ? EXIT.refused : EXIT.ok;
  },
});
