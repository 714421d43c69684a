import { z } from 'zod';
import { parseAllowedHosts, readServiceUrls, type AllowedHost } from '@sagaflow/definitions';
import { DEFAULT_LOG_BUFFER_BYTES, MAX_LOG_BUFFER_BYTES, parseRedactKeys } from '@sagaflow/observability';
import { ENGINE_DEFAULTS } from './defaults.js';

/** Engine configuration, parsed once at start; nothing else reads process.env. */
const envSchema = z.object({
  /** production: no demo-mock defaults for SAGAFLOW_SERVICE_<NAME>_URL */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  // as the API's: a postgres:// or postgresql:// URL (anything else would only fail later, in a reconnect loop)
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }),
  ENGINE_HOST: z.string().default(ENGINE_DEFAULTS.host),
  ENGINE_PORT: z.coerce.number().int().min(0).max(65535).default(ENGINE_DEFAULTS.port),
  ENGINE_ID: z.string().min(1).max(100).optional(),
  ENGINE_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(ENGINE_DEFAULTS.concurrency),
  ENGINE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(ENGINE_DEFAULTS.batchSize),
  /** payload bytes (input, context, outputs) the in-flight items may hold before claims stop; default 64 MiB */
  ENGINE_MAX_INFLIGHT_BYTES: z.coerce.number().int().min(1).default(ENGINE_DEFAULTS.maxInflightBytes),
  ENGINE_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(ENGINE_DEFAULTS.leaseMs),
  ENGINE_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(ENGINE_DEFAULTS.pollIntervalMs),
  ENGINE_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(ENGINE_DEFAULTS.maxDeliveries),
  ENGINE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(ENGINE_DEFAULTS.shutdownGraceMs),
  ENGINE_SCHEDULE_CATCH_UP_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(ENGINE_DEFAULTS.scheduleCatchUpMs),
  ENGINE_SCHEDULE_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(ENGINE_DEFAULTS.schedulePollMs),
  ENGINE_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(ENGINE_DEFAULTS.poolSize),
  /** bulk-operation batches this engine processes at once; 0 = this engine takes no operation work */
  ENGINE_OPERATION_SLOTS: z.coerce.number().int().min(0).max(16).default(ENGINE_DEFAULTS.operationSlots),
  /**
   * V8 grows the old generation to (1 + this/100) × the live heap before the next major collection; 0 leaves V8's own
   * heuristic, which under a steady burst let the heap reach 4–6 × its live size (docs/performance.md). Not a cap:
   * large payloads still get the memory they need.
   */
  /** false: starts never hand this engine a run's first step; it only claims (docs/architecture.md#the-first-step-handed-to-an-engine) */
  ENGINE_HANDOFF: z.enum(['true', 'false']).default('true'),
  ENGINE_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
  SAGAFLOW_ALLOWED_HOSTS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_SENSITIVE: z.enum(['true', 'false']).default('false'),
  /** stdout log lines are written in batches of about this many bytes, each at most 100 ms late; 0 = each at once */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(MAX_LOG_BUFFER_BYTES).default(DEFAULT_LOG_BUFFER_BYTES),
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

/** The engine's configuration from this process's environment (the one place the engine reads process.env). */
export function readEngineEnv(): ParsedEngineEnv {
  return parseEnv(process.env);
}

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
