import { z } from 'zod';
import { runIdSchema } from './run.js';

/** Run history (docs/contract.md#run-history): one event, a page of them, and the page's query. */

export const runEventSchema = z
  .object({
    seq: z.number().int().min(1),
    at: z.iso.datetime({ offset: true }),
    type: z.enum([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED',
      'ATTEMPT_FINISHED',
      'DELIVERY_PARKED',
      'CANCEL_REQUESTED',
      'OPERATOR_ACTION',
      'STEP_WAITING',
      'SIGNAL_RECEIVED',
      'STEP_WOKEN',
    ]),
    stepId: z.string().nullable(),
    kind: z.enum(['action', 'compensation']).nullable(),
    attempt: z.number().int().nullable(),
    data: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Per type, every key present (docs/contract.md#run-history)' }),
  })
  .meta({ id: 'RunEvent' });

/**
 * An integer query parameter: a decimal string (query strings are strings; coercion is pinned off for every input,
 * see no-coercion.ts), checked as a number after.
 */
function queryInt(min: number, max: number, fallback: number, description: string) {
  return z
    .string()
    .regex(/^\d{1,9}$/, 'a non-negative integer')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description });
}

export const runEventsInputSchema = z.object({
  runId: runIdSchema,
  after: queryInt(0, 2_000_000_000, 0, 'Return events with a greater seq (default 0: from the start)'),
  limit: queryInt(1, 1000, 100, 'At most this many events (1–1000, default 100)'),
  waitMs: queryInt(
    0,
    30_000,
    0,
    'Long poll (0–30000 ms): with nothing newer than `after`, wait up to this long for the next event',
  ),
});

export const runEventsPageSchema = z
  .object({
    runId: z.uuid(),
    events: z.array(runEventSchema),
    nextAfter: z.number().int().meta({ description: 'The last seq returned, or `after`' }),
    terminal: z.boolean().meta({ description: 'The run is terminal now' }),
  })
  .meta({ id: 'RunEventsPage' });
