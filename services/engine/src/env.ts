import { z } from 'zod';
import { parseAllowedHosts, readServiceUrls, type AllowedHost } from '@sagaflow/definitions';
import { parseRedactKeys } from '@sagaflow/observability';

/** 64 MiB: 200 typical items use a few MiB; at ~14 MiB an item (1 MiB input and context, 50 × 256 KiB outputs) about 4. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

/** Engine configuration, parsed once at start; nothing else reads process.env. */
const envSchema = z.object({
  /** production: no demo-mock defaults for SAGAFLOW_SERVICE_<NAME>_URL */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.string().min(1, 'DATABASE_URL is required'),
  // loopback unless told otherwise; containers set ENGINE_HOST=0.0.0.0 (Dockerfile, docker-compose.yml)
  ENGINE_HOST: z.string().default('127.0.0.1'),
  ENGINE_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  ENGINE_ID: z.string().min(1).max(100).optional(),
  ENGINE_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(200),
  ENGINE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(64),
  /** payload bytes (input, context, outputs) the in-flight items may hold before claims stop; default 64 MiB */
  ENGINE_MAX_INFLIGHT_BYTES: z.coerce.number().int().min(1).default(DEFAULT_MAX_INFLIGHT_BYTES),
  ENGINE_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(30_000),
  ENGINE_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  ENGINE_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  ENGINE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  ENGINE_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  /**
   * V8 grows the old generation to (1 + this/100) × the live heap before the next major collection; 0 leaves V8's own
   * heuristic, which under a steady burst let the heap reach 4–6 × its live size (docs/performance.md). Not a cap:
   * large payloads still get the memory they need.
   */
  ENGINE_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
  SAGAFLOW_ALLOWED_HOSTS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_SENSITIVE: z.enum(['true', 'false']).default('false'),
  /** comma lists of key substrings redacted at any depth of a log record, on top of the built-in list */
  LOG_REDACT_KEYS: z.string().optional(),
  LOG_REDACT_FIELDS: z.string().optional(),
  /** OTLP/HTTP base URL (…/v1/traces is appended); unset = tracing off */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ protocol: /^https?$/ }).optional(),
  ),
  /** how long finished spans wait to be exported in a batch, ms */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).max(60_000).default(5_000),
});

export type EngineEnv = z.infer<typeof envSchema>;

export type ParsedEngineEnv = EngineEnv & {
  serviceUrls: Record<string, string>;
  allowedHosts: AllowedHost[] | undefined;
  redactKeys: string[];
};

export function parseEnv(env: Record<string, string | undefined>): ParsedEngineEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid engine configuration: ${problems}`);
  }
  let serviceUrls: Record<string, string>;
  let allowedHosts: AllowedHost[] | undefined;
  try {
    serviceUrls = readServiceUrls(env, { production: parsed.data.NODE_ENV === 'production' });
    allowedHosts = parseAllowedHosts(parsed.data.SAGAFLOW_ALLOWED_HOSTS);
  } catch (error) {
    throw new Error(`invalid engine configuration: ${(error as Error).message}`, { cause: error });
  }
  return {
    ...parsed.data,
    serviceUrls,
    allowedHosts,
    redactKeys: parseRedactKeys(parsed.data.LOG_REDACT_KEYS, parsed.data.LOG_REDACT_FIELDS),
  };
}
