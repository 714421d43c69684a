import { z } from 'zod';
import { jsonObjectSchema } from './json.js';
import { slugSchema } from './run.js';

/** Schedule shapes (docs/api.md#schedules): each defined once, used for `.input()`, `.output()` and OpenAPI. */

const timestampSchema = z.iso.datetime({ offset: true });

export const scheduleIdSchema = slugSchema.meta({
  description: 'Schedule id: lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters',
  example: 'nightly-report',
});

export const scheduleIdInputSchema = z.object({ id: scheduleIdSchema });

const overlapSchema = z.enum(['skip', 'allow']).meta({
  description: '`skip`: a fire time is skipped while the previous run is not terminal; `allow`: it starts anyway',
});

const scheduleFields = {
  workflowName: slugSchema.meta({ description: 'Workflow to start', example: 'order-processing' }),
  version: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'Workflow version; the highest registered version at each fire when omitted' }),
  cron: z.string().min(1).max(200).meta({
    description:
      '5 fields (minute precision) or 6 (the first is seconds); croner syntax, nicknames such as `@daily` accepted',
    example: '0 9 * * MON-FRI',
  }),
  timezone: z
    .string()
    .min(1)
    .max(64)
    .meta({ description: 'IANA time zone the cron is read in (default UTC)', example: 'Europe/Madrid' }),
  input: jsonObjectSchema.meta({ description: "Each run's input" }),
  context: jsonObjectSchema.meta({ description: "Each run's context" }),
  overlap: overlapSchema,
  paused: z.boolean(),
};

export const putScheduleInputSchema = z.strictObject({
  id: scheduleIdSchema,
  workflowName: scheduleFields.workflowName,
  version: scheduleFields.version,
  cron: scheduleFields.cron,
  timezone: scheduleFields.timezone.optional(),
  input: scheduleFields.input,
  context: scheduleFields.context.optional(),
  overlap: scheduleFields.overlap.optional().meta({ description: 'default `skip`' }),
  paused: scheduleFields.paused.optional().meta({ description: 'default false' }),
});

export const scheduleSchema = z
  .object({
    id: z.string(),
    workflowName: z.string(),
    version: z.string().nullable().meta({ description: 'null: the highest registered version at each fire' }),
    cron: z.string(),
    timezone: z.string(),
    input: scheduleFields.input,
    context: scheduleFields.context,
    overlap: overlapSchema,
    paused: z.boolean(),
    nextFireAt: timestampSchema.nullable().meta({ description: 'The next fire time; null while paused' }),
    lastFireAt: timestampSchema
      .nullable()
      .meta({ description: 'The fire time (or trigger time) of the last run started; skips do not move it' }),
    lastRunId: z.uuid().nullable(),
    skippedCount: z.number().int().meta({ description: 'Fire times skipped by `overlap: skip`' }),
    missedCount: z
      .number()
      .int()
      .meta({ description: 'Fire times that passed while no engine ran (only the latest of them fired)' }),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  })
  .meta({ id: 'Schedule' });

export const scheduleListSchema = z.object({ items: z.array(scheduleSchema) }).meta({ id: 'ScheduleList' });

export const scheduleTriggeredSchema = z
  .object({
    scheduleId: z.string(),
    workflowName: z.string(),
    runId: z.uuid(),
    firedAt: timestampSchema,
    idempotencyKey: z.string().meta({ description: '`schedule:<id>:trigger:<firedAt>`, also the correlation id' }),
  })
  .meta({ id: 'ScheduleTriggered' });

export const emptyOutputSchema = z.void();
