import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const mockEnvSchema = z.object({
  MOCK_HOST: z.string().min(1).default('127.0.0.1'),
  MOCK_PAYMENTS_PORT: port(3001),
  MOCK_INVENTORY_PORT: port(3002),
  MOCK_NOTIFICATIONS_PORT: port(3003),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type MockEnv = z.infer<typeof mockEnvSchema>;

/** Parses the mocks' configuration once; throws an Error naming each bad variable. */
export function parseMockEnv(source: NodeJS.ProcessEnv = process.env): MockEnv {
  const result = mockEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`invalid environment: ${problems.join('; ')}`);
}
