import {
  deleteSchedule,
  getSchedule,
  listSchedules,
  NotFoundError,
  pauseSchedule,
  putSchedule,
  resumeSchedule,
  triggerSchedule,
} from '@sagaflow/db';
import { z } from 'zod';
import { createRouter, publicProcedure } from '../trpc.js';
import {
  emptyOutputSchema,
  putScheduleInputSchema,
  scheduleIdInputSchema,
  scheduleListSchema,
  scheduleSchema,
  scheduleTriggeredSchema,
} from '../schemas/schedule.js';

/** Schedules (docs/api.md#schedules): cron-driven starts, fired by the engines. Admin only (x-admin-token). */

const TAGS = ['admin'];
const ADMIN_NOTE = ' Needs the admin role (an admin key or `x-admin-token`).';

export const schedulesRouter = createRouter({
  put: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'PUT',
        path: '/v1/admin/schedules/{id}',
        operationId: 'putSchedule',
        tags: TAGS,
        summary: 'Create (201) or replace (200) a schedule',
        description:
          'The cron is read in `timezone` (IANA, default UTC); 5 fields (minutes) or 6 (seconds first). An invalid ' +
          'cron or time zone, or an unknown workflow or version, is a 400 naming it. Unchanged cron and time zone keep ' +
          'the next fire time; otherwise it is the first after now.' +
          ADMIN_NOTE,
        protect: true,
      },
    })
    .input(putScheduleInputSchema)
    .output(scheduleSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...body } = input;
      const { schedule, created } = await putSchedule(ctx.db, id, {
        workflowName: body.workflowName,
        ...(body.version !== undefined ? { version: body.version } : {}),
        cron: body.cron,
        timezone: body.timezone ?? 'UTC',
        input: body.input,
        context: body.context ?? {},
        overlap: body.overlap ?? 'skip',
        paused: body.paused ?? false,
      });
      ctx.log.info({ scheduleId: id, created, nextFireAt: schedule.nextFireAt }, 'schedule saved');
      ctx.status = created ? 201 : 200;
      return schedule;
    }),

  list: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'GET',
        path: '/v1/admin/schedules',
        operationId: 'listSchedules',
        tags: TAGS,
        summary: 'Every schedule, by id',
        description: 'Each with its next and last fire time.' + ADMIN_NOTE,
        protect: true,
      },
    })
    .input(z.void())
    .output(scheduleListSchema)
    .query(async ({ ctx }) => ({ items: await listSchedules(ctx.db) })),

  get: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'GET',
        path: '/v1/admin/schedules/{id}',
        operationId: 'getSchedule',
        tags: TAGS,
        summary: 'A schedule',
        description: 'Unknown id → 404.' + ADMIN_NOTE,
        protect: true,
      },
    })
    .input(scheduleIdInputSchema)
    .output(scheduleSchema)
    .query(async ({ ctx, input }) => {
      const schedule = await getSchedule(ctx.db, input.id);
      if (!schedule) throw new NotFoundError(`schedule ${input.id} not found`);
      return schedule;
    }),

  pause: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/schedules/{id}/pause',
        operationId: 'pauseSchedule',
        tags: TAGS,
        summary: 'Pause a schedule',
        description:
          'No fire time is due while paused (`nextFireAt` null); pausing a paused one is a no-op.' + ADMIN_NOTE,
        protect: true,
      },
    })
    .input(scheduleIdInputSchema)
    .output(scheduleSchema)
    .mutation(async ({ ctx, input }) => {
      const schedule = await pauseSchedule(ctx.db, input.id);
      ctx.log.info({ scheduleId: input.id }, 'schedule paused');
      ctx.status = 202;
      return schedule;
    }),

  resume: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/schedules/{id}/resume',
        operationId: 'resumeSchedule',
        tags: TAGS,
        summary: 'Resume a schedule',
        description:
          'Fires again from the first fire time after now; the fire times that passed while paused are not fired. ' +
          'Resuming a schedule that is not paused is a no-op.' +
          ADMIN_NOTE,
        protect: true,
      },
    })
    .input(scheduleIdInputSchema)
    .output(scheduleSchema)
    .mutation(async ({ ctx, input }) => {
      const schedule = await resumeSchedule(ctx.db, input.id);
      ctx.log.info({ scheduleId: input.id, nextFireAt: schedule.nextFireAt }, 'schedule resumed');
      ctx.status = 202;
      return schedule;
    }),

  trigger: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/schedules/{id}/trigger',
        operationId: 'triggerSchedule',
        tags: TAGS,
        summary: 'Start one run of a schedule now',
        description:
          'Outside the cron times, whatever the overlap policy, paused or not; idempotency key and correlation id ' +
          '`schedule:<id>:trigger:<time ISO>`. Moves `lastFireAt` and `lastRunId`.' +
          ADMIN_NOTE,
        protect: true,
      },
    })
    .input(scheduleIdInputSchema)
    .output(scheduleTriggeredSchema)
    .mutation(async ({ ctx, input }) => {
      const triggered = await triggerSchedule(ctx.db, input.id);
      ctx
        .runLog({
          runId: triggered.runId,
          workflowName: triggered.workflowName,
          correlationId: triggered.idempotencyKey,
        })
        .info({ scheduleId: input.id }, 'schedule triggered');
      ctx.status = 202;
      return triggered;
    }),

  delete: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'DELETE',
        path: '/v1/admin/schedules/{id}',
        operationId: 'deleteSchedule',
        tags: TAGS,
        summary: 'Delete a schedule',
        description: 'No fire follows; runs it started are not touched. Unknown id → 404.' + ADMIN_NOTE,
        protect: true,
      },
    })
    .input(scheduleIdInputSchema)
    .output(emptyOutputSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteSchedule(ctx.db, input.id);
      ctx.log.info({ scheduleId: input.id }, 'schedule deleted');
      ctx.status = 204;
    }),
});
