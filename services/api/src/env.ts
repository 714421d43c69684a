import { z } from 'zod';
import { parseAllowedHosts, readServiceUrls, type AllowedHost } from '@sagaflow/definitions';
import { parseRedactFields } from '@sagaflow/observability';

/**
 * The API's configuration, parsed once from the environment with zod.
 * This is the only module of the API that reads `process.env`.
 */

const MIN_PRODUCTION_TOKEN_LENGTH = 16;

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  ADMIN_TOKEN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_RATE_LIMIT_MAX: positiveInt.default(60),
  ADMIN_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  BODY_LIMIT: positiveInt.default(1_048_576),
  LOG_SENSITIVE: z.enum(['true', 'false']).default('false'),
  LOG_REDACT_FIELDS: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** comma list of host / host:port the engine may call; checked at registration too (SPEC §9) */
  SAGAFLOW_ALLOWED_HOSTS: z.string().optional(),
});

export interface ApiConfig {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  /** undefined: every admin request is refused with 401 (server.ts generates one in development). */
  adminToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  adminRateLimit: { max: number; windowMs: number };
  bodyLimit: number;
  /** LOG_SENSITIVE=true: secrets and sensitive fields are logged as they are (local debugging only) */
  logSensitive: boolean;
  /** LOG_REDACT_FIELDS: field names redacted at any depth of a log record (default email, card, password, token) */
  logRedactFields: string[];
  /** OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL for spans; undefined = tracing off */
  otlpEndpoint: string | undefined;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be exported in a batch, ms */
  otlpExportDelayMs: number;
  /** SAGAFLOW_ALLOWED_HOSTS, parsed (the engine reads the same variable); undefined = every host */
  allowedHosts: AllowedHost[] | undefined;
  /** SAGAFLOW_SERVICE_<NAME>_URL values; the demo mocks fill in outside production */
  serviceUrls: Record<string, string>;
}

/** Thrown by `loadConfig`; the message names every offending variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Treats empty strings as unset, so `REDIS_URL=` behaves like no REDIS_URL. */
function dropEmpty(source: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/** §9: production refuses to start without an admin token of at least 16 characters. */
function checkProductionToken(values: Record<string, string>): string | undefined {
  const token = values.ADMIN_TOKEN;
  if (values.NODE_ENV !== 'production') return undefined;
  if (token !== undefined && token.length >= MIN_PRODUCTION_TOKEN_LENGTH) return undefined;
  return `ADMIN_TOKEN: must be set to at least ${MIN_PRODUCTION_TOKEN_LENGTH} characters when NODE_ENV=production`;
}

/** Parses the API configuration from `source` (default: `process.env`); throws `ConfigError` naming bad variables. */
export function loadConfig(source: Record<string, string | undefined> = process.env): ApiConfig {
  const values = dropEmpty(source);
  const parsed = envSchema.safeParse(values);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  const tokenProblem = checkProductionToken(values);
  if (tokenProblem) problems.push(tokenProblem);
  let allowedHosts: AllowedHost[] | undefined;
  let serviceUrls: Record<string, string> = {};
  try {
    allowedHosts = parseAllowedHosts(values.SAGAFLOW_ALLOWED_HOSTS);
    serviceUrls = readServiceUrls(values, { production: values.NODE_ENV === 'production' });
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    adminToken: env.ADMIN_TOKEN,
    logLevel: env.LOG_LEVEL,
    adminRateLimit: { max: env.ADMIN_RATE_LIMIT_MAX, windowMs: env.ADMIN_RATE_LIMIT_WINDOW_MS },
    bodyLimit: env.BODY_LIMIT,
    logSensitive: env.LOG_SENSITIVE === 'true',
    logRedactFields: parseRedactFields(env.LOG_REDACT_FIELDS),
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpExportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
    allowedHosts,
    serviceUrls,
  };
}
