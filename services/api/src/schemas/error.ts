import { z } from 'zod';

/** The one error body of the API (docs/contract.md#errors): `{ code, message, issues? }`. Used to document every error response. */
export const errorBodySchema = z
  .object({
    code: z
      .string()
      .meta({ description: 'tRPC error code, e.g. BAD_REQUEST, NOT_FOUND, CONFLICT', example: 'NOT_FOUND' }),
    message: z.string().meta({ example: 'run not found' }),
    issues: z
      .array(
        z
          .object({
            code: z.string(),
            path: z.array(z.union([z.string(), z.number()])),
            message: z.string(),
          })
          .loose(),
      )
      .optional()
      .meta({ description: 'zod validation issues (400 only)' }),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorBodySchema>;
