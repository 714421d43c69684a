import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '@sagaflow/definitions';
import { InvalidInputError, type RunPosition, type RunSearchFilter } from '@sagaflow/db';
import type { RunSearchInput } from './schemas/run-search.js';

/**
 * The opaque cursor of GET /v1/runs (docs/api.md#search-runs): base64url of `{ a, i, f, c }` — the last run's exact
 * created_at and id (the keyset position), a digest of the filters it was made for, and a check digest over the
 * three. A cursor that does not decode, or whose check digest does not match, is malformed (400); one made for
 * other filters is a 400 too. The digests are plain SHA-256, not a MAC: a cursor grants nothing (every page applies
 * the request's own filters), so a forged position can only skip runs the caller could list anyway.
 */

const DIGEST_LENGTH = 22; // base64url characters: 132 bits

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, DIGEST_LENGTH);
}

/** The filters as one stable digest (key order and status order do not matter; the page size is not a filter). */
export function filterDigest(filter: RunSearchFilter): string {
  const statuses = filter.statuses ? [...filter.statuses].sort() : undefined;
  return digest(canonicalJson({ ...filter, statuses }));
}

const payloadSchema = z
  .object({
    a: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
    i: z.uuid(),
    f: z.string().length(DIGEST_LENGTH),
    c: z.string().length(DIGEST_LENGTH),
  })
  .strict();

const checkOf = (a: string, i: string, f: string): string => digest(`${a}|${i}|${f}`);

export function encodeCursor(position: RunPosition, filter: RunSearchFilter): string {
  const f = filterDigest(filter);
  const payload = { a: position.createdAt, i: position.runId, f, c: checkOf(position.createdAt, position.runId, f) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The position a cursor names; InvalidInputError (400) when malformed or made for other filters. */
export function decodeCursor(cursor: string, filter: RunSearchFilter): RunPosition {
  let payload: z.infer<typeof payloadSchema> | undefined;
  if (/^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      payload = payloadSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).data;
    } catch {
      payload = undefined;
    }
  }
  if (!payload || payload.c !== checkOf(payload.a, payload.i, payload.f)) {
    throw new InvalidInputError('malformed cursor: pass the nextCursor of the previous page unchanged');
  }
  if (payload.f !== filterDigest(filter)) {
    throw new InvalidInputError('the cursor was made for other filters: repeat the filters of the first page');
  }
  return { createdAt: payload.a, runId: payload.i };
}

/** The query's filters as the database query takes them (undefined ones left out, so digests ignore them). */
export function toRunSearchFilter(input: Omit<RunSearchInput, 'limit' | 'cursor'>): RunSearchFilter {
  const filter: RunSearchFilter = {
    statuses: input.status,
    workflowName: input.workflowName,
    workflowVersion: input.workflowVersion,
    correlationId: input.correlationId,
    idempotencyKey: input.idempotencyKey,
    errorCode: input.errorCode,
    stepId: input.stepId,
    createdAfter: input.createdAfter,
    createdBefore: input.createdBefore,
    // `{}` is contained in every object: no filter (and no full scan of a GIN index)
    input: input.input && Object.keys(input.input).length > 0 ? input.input : undefined,
    context: input.context && Object.keys(input.context).length > 0 ? input.context : undefined,
    retrying: input.retrying === 'true' ? true : undefined,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as RunSearchFilter;
}
