import { z } from 'zod';
import { createRouter, publicProcedure } from '../trpc.js';

const whoamiOutputSchema = z
  .object({
    role: z
      .enum(['anonymous', 'client', 'operator', 'admin'])
      .describe('the role of the credential sent; anonymous without one (or with one the API does not check here)'),
    keysEnabled: z
      .boolean()
      .describe(
        'SAGAFLOW_API_KEYS is set: every /v1 call needs a bearer key (else only admin calls need a credential)',
      ),
  })
  .meta({ id: 'Whoami' });

/** Who the caller is: what the console (and scripts) use to show only what the credential may do. */
export const whoamiRouter = createRouter({
  whoami: publicProcedure
    .meta({
      role: 'client',
      openapi: {
        method: 'GET',
        path: '/v1/whoami',
        operationId: 'whoami',
        tags: ['runs'],
        summary: 'The role of the credential sent (the console shows only what it may do)',
      },
    })
    .input(z.void())
    .output(whoamiOutputSchema)
    .query(({ ctx }) => ({ role: ctx.principal.role ?? ('anonymous' as const), keysEnabled: ctx.access.keysEnabled })),
});
