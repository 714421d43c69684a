import { findUnstorableJson } from '@sagaflow/db';
import { z } from 'zod';

export { findUnstorableJson } from '@sagaflow/db';

/** A JSON object the database can store: bad input is a 400 here rather than a 500 from Postgres. */
export const jsonObjectSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = findUnstorableJson(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
