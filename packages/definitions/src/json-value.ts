import { z } from 'zod';

/** A value JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Any JSON value (finite numbers; no undefined, functions or class instances), with `message` as the
 * single issue when the value is not one. zod's own z.json() cannot carry a custom message.
 */
export function jsonValueSchema(message: string): z.ZodType<JsonValue> {
  const schema: z.ZodType<JsonValue> = z.lazy(() =>
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(schema), z.record(z.string(), schema)], {
      error: message,
    }),
  );
  return schema;
}
