import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/env.js';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(base)).toEqual({
      nodeEnv: 'development',
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: base.DATABASE_URL,
      redisUrl: undefined,
      adminToken: undefined,
      logLevel: 'info',
      adminRateLimit: { max: 60, windowMs: 60_000 },
      bodyLimit: 1_048_576,
      logSensitive: false,
      logRedactFields: ['email', 'card', 'password', 'token'],
      otlpEndpoint: undefined,
      otlpExportDelayMs: 5_000,
      allowedHosts: undefined,
      serviceUrls: {
        payments: 'http://127.0.0.1:3001',
        inventory: 'http://127.0.0.1:3002',
        notifications: 'http://127.0.0.1:3003',
      },
    });
  });

  it('reads SAGAFLOW_ALLOWED_HOSTS and SAGAFLOW_SERVICE_<NAME>_URL as the engine does (no mock defaults in production)', () => {
    expect(
      loadConfig({ ...base, SAGAFLOW_ALLOWED_HOSTS: 'a.internal,[::1]:8080', SAGAFLOW_SERVICE_X_Y_URL: 'http://x:1' }),
    ).toMatchObject({
      allowedHosts: [{ host: 'a.internal' }, { host: '::1', port: 8080 }],
      serviceUrls: expect.objectContaining({ 'x-y': 'http://x:1', payments: 'http://127.0.0.1:3001' }),
    });
    const production = { ...base, NODE_ENV: 'production', ADMIN_TOKEN: 'sixteen-chars-xx' };
    expect(loadConfig(production).serviceUrls).toEqual({});
    expect(() => loadConfig({ ...base, SAGAFLOW_ALLOWED_HOSTS: 'a:0' })).toThrow(/SAGAFLOW_ALLOWED_HOSTS/);
    expect(() => loadConfig({ ...base, SAGAFLOW_SERVICE_PAYMENTS_URL: 'payments' })).toThrow(
      /SAGAFLOW_SERVICE_PAYMENTS_URL/,
    );
  });

  it('reads the logging and tracing settings', () => {
    const config = loadConfig({
      ...base,
      LOG_SENSITIVE: 'true',
      LOG_REDACT_FIELDS: 'ssn, Iban',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    expect(config).toMatchObject({
      logSensitive: true,
      logRedactFields: ['ssn', 'Iban'],
      otlpEndpoint: 'http://jaeger:4318',
      otlpExportDelayMs: 200,
    });
    expect(() => loadConfig({ ...base, LOG_SENSITIVE: 'yes' })).toThrow(/LOG_SENSITIVE/);
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('names the variable of a bad or missing value', () => {
    expect(() => loadConfig({})).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ ...base, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...base, REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ ...base, ADMIN_RATE_LIMIT_MAX: '0' })).toThrow(/ADMIN_RATE_LIMIT_MAX/);
    expect(() => loadConfig({ ...base, LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('refuses production without an ADMIN_TOKEN of at least 16 characters', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', ADMIN_TOKEN: 'fifteen-chars-x' })).toThrow(
      /ADMIN_TOKEN/,
    );
    expect(loadConfig({ ...base, NODE_ENV: 'production', ADMIN_TOKEN: 'sixteen-chars-xx' }).adminToken).toBe(
      'sixteen-chars-xx',
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...base, REDIS_URL: '', ADMIN_TOKEN: '' })).toMatchObject({
      redisUrl: undefined,
      adminToken: undefined,
    });
  });
});
