import { z } from 'zod';

/** Request/response headers the API reads or writes; validated with zod and documented in OpenAPI. */

const headerToken = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII without spaces, 1-200 characters');

export const correlationIdSchema = headerToken.meta({
  description: 'Correlation id of the run; generated (UUID) when absent, echoed back in the response',
  example: '4b7e9d2c-1f3a-4c5e-8d9b-0a1b2c3d4e5f',
});

export const idempotencyKeySchema = headerToken.meta({
  description: 'Same key + same body returns the same run; same key + different body is a 409',
  example: 'order-1234',
});

/** W3C trace context; an invalid value is ignored, as the W3C spec asks. */
export const traceParentSchema = z
  .string()
  .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
  .meta({
    description: 'W3C trace context of the caller',
    example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });

export const traceStateSchema = z.string().max(512);

export const startRequestHeadersSchema = z.object({
  'idempotency-key': idempotencyKeySchema.optional(),
  'x-correlation-id': correlationIdSchema.optional(),
  traceparent: traceParentSchema.optional(),
});

/** The start headers that must be valid when present (400 otherwise); `traceparent` is checked separately. */
export const startHeaderValuesSchema = z.object({
  'idempotency-key': idempotencyKeySchema.optional(),
  'x-correlation-id': correlationIdSchema.optional(),
});

export const signalRequestHeadersSchema = z.object({
  'idempotency-key': headerToken
    .meta({
      description:
        'Same key + same payload returns the same signalId and stores nothing; same key + another payload is a 409',
      example: 'approval-refund-77',
    })
    .optional(),
});
