import { isIP } from 'node:net';
import { z } from 'zod';
import { parseAllowedHosts, readServiceUrls, type AllowedHost } from '@sagaflow/definitions';
import { DEFAULT_LOG_BUFFER_BYTES, MAX_LOG_BUFFER_BYTES, parseRedactKeys } from '@sagaflow/observability';
import { parseApiKeys, type ApiKey } from './api-keys.js';

/**
 * The API's configuration, parsed once from the environment with zod.
 * This is the only module of the API that reads `process.env`.
 */

const MIN_PRODUCTION_TOKEN_LENGTH = 16;

/** The public default ADMIN_TOKEN that docker-compose.yml shipped: refused with NODE_ENV=production. */
export const PUBLIC_DEFAULT_ADMIN_TOKENS: readonly string[] = ['sagaflow-local-admin-token'];

const positiveInt = z.coerce.number().int().positive();

/** What ADMIN_TOKEN may hold (API keys: api-keys.ts, the same without the comma). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** SEARCH_STATEMENT_TIMEOUT_MS unset: how long one search or count query may run. */
export const DEFAULT_SEARCH_TIMEOUT_MS = 5_000;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  // loopback unless told otherwise; containers set HOST=0.0.0.0 (Dockerfile, docker-compose.yml)
  HOST: z.string().min(1).default('127.0.0.1'),
  TRUST_PROXY: z.string().optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  // sent as a header value: a space, tab, line break or non-ASCII character could never be sent as configured
  ADMIN_TOKEN: z
    .string()
    .regex(VISIBLE_ASCII, 'must be visible ASCII characters (0x21–0x7E): no spaces, tabs or line breaks')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_RATE_LIMIT_MAX: positiveInt.default(60),
  ADMIN_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  BODY_LIMIT: positiveInt.default(1_048_576),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.optional(),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.optional(),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.optional(),
  HTTP_CONNECTION_TIMEOUT_MS: positiveInt.optional(),
  SAGAFLOW_ALLOWED_ORIGINS: z.string().optional(),
  LOG_SENSITIVE: z.enum(['true', 'false']).default('false'),
  /** stdout log lines are written in batches of about this many bytes, each at most 100 ms late; 0 = each at once */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(MAX_LOG_BUFFER_BYTES).default(DEFAULT_LOG_BUFFER_BYTES),
  LOG_REDACT_FIELDS: z.string().optional(),
  LOG_REDACT_KEYS: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** V8 collects when the heap reaches (1 + n/100) × its live size; 0 = V8's own heuristic (as ENGINE_HEAP_GROWING_PERCENT) */
  API_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
  /** comma list of host / host:port the engine may call; checked at registration too (docs/contract.md#security) */
  SAGAFLOW_ALLOWED_HOSTS: z.string().optional(),
  /** statement timeout of run search and counts (GET /v1/runs, /v1/runs/counts): past it, a 503 QUERY_TIMEOUT */
  SEARCH_STATEMENT_TIMEOUT_MS: positiveInt.default(DEFAULT_SEARCH_TIMEOUT_MS),
  /** comma list of role:key, roles client < operator < admin (docs/security.md); parsed by parseApiKeys */
  SAGAFLOW_API_KEYS: z.string().optional(),
  /** the built web console served at /ui (default: services/console/dist beside this package) */
  SAGAFLOW_CONSOLE_DIR: z.string().optional(),
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
  /** TRUST_PROXY: Fastify's `trustProxy` (false, true, a hop count, or a comma list of proxy addresses/CIDRs) */
  trustProxy: boolean | number | string[];
  /** HTTP_*_TIMEOUT_MS: how long a client may take to send headers / a whole request, idle keep-alive, idle socket */
  httpTimeouts: HttpTimeouts;
  /** SAGAFLOW_ALLOWED_ORIGINS: browser origins (besides the API's own) allowed to send mutating requests */
  allowedOrigins: string[];
  /** LOG_SENSITIVE=true: secrets and sensitive fields are logged as they are (local debugging only) */
  logSensitive: boolean;
  /** LOG_BUFFER_BYTES: stdout lines are written in batches of about this many bytes (0 = each line at once) */
  logBufferBytes: number;
  /** LOG_REDACT_KEYS (+ LOG_REDACT_FIELDS, its older name): key substrings redacted on top of the built-in list */
  logRedactKeys: string[];
  /** OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL for spans; undefined = tracing off */
  otlpEndpoint: string | undefined;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be exported in a batch, ms */
  otlpExportDelayMs: number;
  /** API_HEAP_GROWING_PERCENT: 0 = V8's own heap growing */
  heapGrowingPercent: number;
  /** SAGAFLOW_ALLOWED_HOSTS, parsed (the engine reads the same variable); undefined = every host */
  allowedHosts: AllowedHost[] | undefined;
  /** SAGAFLOW_SERVICE_<NAME>_URL values; the demo mocks fill in outside production */
  serviceUrls: Record<string, string>;
  /** SEARCH_STATEMENT_TIMEOUT_MS: a search or count query running longer is cancelled (503 QUERY_TIMEOUT) */
  searchTimeoutMs: number;
  /** SAGAFLOW_API_KEYS, parsed (digests only); empty = no API keys: non-admin endpoints open, admin ones need ADMIN_TOKEN */
  apiKeys: ApiKey[];
  /** SAGAFLOW_CONSOLE_DIR: the built console served at /ui; undefined = services/console/dist of this checkout */
  consoleDir?: string | undefined;
}

export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  connectionMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 72_000,
  connectionMs: 90_000,
};

/** An IP address, or an address/prefix CIDR (IPv4 up to /32, IPv6 up to /128). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY → Fastify's trustProxy: true/false, a hop count, or a comma list of addresses and CIDRs.
 * @throws Error naming the variable and the entry that is none of these
 */
export function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  const text = (value ?? '').trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries)
    if (!isAddressOrCidr(entry))
      throw new Error(`TRUST_PROXY: "${entry}" is not true, false, a hop count, an IP address or a CIDR`);
  return entries;
}

/**
 * SAGAFLOW_ALLOWED_ORIGINS → origins (scheme://host[:port]), lower-cased, without a trailing slash.
 * @throws Error naming the variable and an entry that is not an http(s) origin (it could never match)
 */
export function parseAllowedOrigins(value: string | undefined): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\/+$/, ''))
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin)
      throw new Error(`SAGAFLOW_ALLOWED_ORIGINS: "${origin}" is not an origin such as https://console.example.com`);
  }
  return origins;
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

/** docs/contract.md#security: production refuses to start without an admin token of at least 16 characters. */
function checkProductionToken(values: Record<string, string>): string | undefined {
  const token = values.ADMIN_TOKEN;
  if (values.NODE_ENV !== 'production') return undefined;
  if (token !== undefined && PUBLIC_DEFAULT_ADMIN_TOKENS.includes(token)) {
    return 'ADMIN_TOKEN: the public default token of docker-compose.yml is refused when NODE_ENV=production; set your own';
  }
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
  let apiKeys: ApiKey[] = [];
  try {
    apiKeys = parseApiKeys(values.SAGAFLOW_API_KEYS, {
      production: values.NODE_ENV === 'production',
      adminToken: values.ADMIN_TOKEN,
    });
  } catch (error) {
    problems.push((error as Error).message);
  }
  let trustProxy: boolean | number | string[] = false;
  let allowedOrigins: string[] = [];
  try {
    trustProxy = parseTrustProxy(values.TRUST_PROXY);
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    allowedOrigins = parseAllowedOrigins(values.SAGAFLOW_ALLOWED_ORIGINS);
  } catch (error) {
    problems.push((error as Error).message);
  }
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
    trustProxy,
    httpTimeouts: {
      headersMs: env.HTTP_HEADERS_TIMEOUT_MS ?? DEFAULT_HTTP_TIMEOUTS.headersMs,
      requestMs: env.HTTP_REQUEST_TIMEOUT_MS ?? DEFAULT_HTTP_TIMEOUTS.requestMs,
      keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? DEFAULT_HTTP_TIMEOUTS.keepAliveMs,
      connectionMs: env.HTTP_CONNECTION_TIMEOUT_MS ?? DEFAULT_HTTP_TIMEOUTS.connectionMs,
    },
    allowedOrigins,
    logSensitive: env.LOG_SENSITIVE === 'true',
    logBufferBytes: env.LOG_BUFFER_BYTES,
    logRedactKeys: parseRedactKeys(env.LOG_REDACT_KEYS, env.LOG_REDACT_FIELDS),
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpExportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
    heapGrowingPercent: env.API_HEAP_GROWING_PERCENT,
    allowedHosts,
    serviceUrls,
    searchTimeoutMs: env.SEARCH_STATEMENT_TIMEOUT_MS,
    consoleDir: env.SAGAFLOW_CONSOLE_DIR,
    apiKeys,
  };
}
