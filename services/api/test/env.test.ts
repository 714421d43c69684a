import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/env.js';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(base)).toEqual({
      nodeEnv: 'development',
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: base.DATABASE_URL,
      redisUrl: undefined,
      adminToken: undefined,
      logBufferBytes: 4096,
      logLevel: 'info',
      adminRateLimit: { max: 60, windowMs: 60_000 },
      bodyLimit: 1_048_576,
      trustProxy: false,
      httpTimeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000, connectionMs: 90_000 },
      allowedOrigins: [],
      logSensitive: false,
      logRedactKeys: [],
      otlpEndpoint: undefined,
      otlpExportDelayMs: 5_000,
      heapGrowingPercent: 50,
      allowedHosts: undefined,
      serviceUrls: {
        payments: 'http://127.0.0.1:3001',
        inventory: 'http://127.0.0.1:3002',
        notifications: 'http://127.0.0.1:3003',
      },
      searchTimeoutMs: 5_000,
      apiKeys: [],
    });
  });

  it('reads API_HEAP_GROWING_PERCENT (0 = V8 decides; 0–1000)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', API_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db', API_HEAP_GROWING_PERCENT: '-1' })).toThrow(
      /API_HEAP_GROWING_PERCENT/,
    );
  });

  it('reads LOG_BUFFER_BYTES (4096 by default, 0 = off, at most 16,383)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).logBufferBytes).toBe(4096);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', LOG_BUFFER_BYTES: '0' }).logBufferBytes).toBe(0);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db', LOG_BUFFER_BYTES: '16384' })).toThrow(
      /LOG_BUFFER_BYTES/,
    );
  });

  it('reads SEARCH_STATEMENT_TIMEOUT_MS (a positive integer)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', SEARCH_STATEMENT_TIMEOUT_MS: '250' }).searchTimeoutMs).toBe(
      250,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db', SEARCH_STATEMENT_TIMEOUT_MS: '0' })).toThrow(
      /SEARCH_STATEMENT_TIMEOUT_MS/,
    );
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
      LOG_REDACT_KEYS: 'pin,ssn',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    expect(config).toMatchObject({
      logSensitive: true,
      logRedactKeys: ['pin', 'ssn', 'iban'],
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

  it('refuses an ADMIN_TOKEN that is not visible ASCII (spaces, tabs, line breaks, non-ASCII), in every environment', () => {
    for (const NODE_ENV of ['production', 'development', 'test']) {
      for (const bad of [
        ' '.repeat(16),
        '\t'.repeat(16),
        'sixteen-chars-xx\n',
        'sixteen-chars\nxx',
        'sixteen chars xx',
        'sixteen-chars-xx\r',
        'sixteen-chars-xé',
        '\u00a0'.repeat(16),
      ]) {
        let message = '';
        try {
          loadConfig({ ...base, NODE_ENV, ADMIN_TOKEN: bad });
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message, JSON.stringify({ NODE_ENV, bad })).toMatch(/ADMIN_TOKEN: must be visible ASCII/);
        expect(message).not.toContain('sixteen');
      }
    }
    const visible = '!~"#$%&()*+,-./0123456789:;<=>?@[\\]^_`{|}';
    expect(loadConfig({ ...base, NODE_ENV: 'production', ADMIN_TOKEN: visible }).adminToken).toBe(visible);
  });

  it('refuses the public default token of docker-compose.yml in production only', () => {
    const compose = { ...base, ADMIN_TOKEN: 'sagaflow-local-admin-token' };
    expect(() => loadConfig({ ...compose, NODE_ENV: 'production' })).toThrow(/public default token/);
    expect(loadConfig({ ...compose, NODE_ENV: 'development' }).adminToken).toBe('sagaflow-local-admin-token');
  });

  it('reads HOST, TRUST_PROXY, the HTTP timeouts and SAGAFLOW_ALLOWED_ORIGINS', () => {
    expect(loadConfig({ ...base, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...base, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ ...base, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
    expect(
      loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' }).httpTimeouts,
    ).toMatchObject({ headersMs: 500, requestMs: 1000 });
    expect(() => loadConfig({ ...base, HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
    expect(
      loadConfig({ ...base, SAGAFLOW_ALLOWED_ORIGINS: 'https://Console.example.com/, http://localhost:5173' })
        .allowedOrigins,
    ).toEqual(['https://console.example.com', 'http://localhost:5173']);
  });

  it('refuses a TRUST_PROXY entry or an allowed origin that could never match, naming the variable', () => {
    expect(loadConfig({ ...base, TRUST_PROXY: 'fd00::/8,::1' }).trustProxy).toEqual(['fd00::/8', '::1']);
    for (const bad of ['banana', '10.0.0.0/33', '10.0.0.1/8/2', '127.0.0.1, proxy.internal'])
      expect(() => loadConfig({ ...base, TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY: ".*" is not true, false/);
    for (const bad of [
      'notanorigin',
      'https://console.example.com/path',
      'ftp://files.example.com',
      'console.example.com',
    ])
      expect(() => loadConfig({ ...base, SAGAFLOW_ALLOWED_ORIGINS: bad }), bad).toThrow(
        /SAGAFLOW_ALLOWED_ORIGINS: ".*" is not an origin/,
      );
  });

  it('parses SAGAFLOW_API_KEYS into roles and non-secret ids, never echoing a key in its errors', () => {
    const keys = loadConfig({
      ...base,
      SAGAFLOW_API_KEYS: ' client:c-key-1 , operator:o:key:2,admin:a-key-3,',
    }).apiKeys;
    expect(keys.map((k) => k.role)).toEqual(['client', 'operator', 'admin']);
    for (const key of keys) expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(keys.map((k) => k.id)).size).toBe(3);
    expect(JSON.stringify(keys)).not.toContain('c-key-1');
    for (const bad of [
      'root:secret-value-1',
      'secret-value-1',
      'client:',
      'client:has space',
      'client:dup-secret,admin:dup-secret',
    ]) {
      let message = '';
      try {
        loadConfig({ ...base, SAGAFLOW_API_KEYS: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, bad).toMatch(/SAGAFLOW_API_KEYS: entry \d/);
      expect(message).not.toMatch(/secret-value|dup-secret/);
    }
    const production = { ...base, NODE_ENV: 'production', ADMIN_TOKEN: 'sixteen-chars-xx' };
    expect(() => loadConfig({ ...production, SAGAFLOW_API_KEYS: 'client:short' })).toThrow(/at least 16 characters/);
    expect(loadConfig({ ...production, SAGAFLOW_API_KEYS: 'client:0123456789abcdef' }).apiKeys).toHaveLength(1);
  });

  it('refuses API keys that are not visible ASCII, and a key equal to ADMIN_TOKEN, naming the entry, never the key', () => {
    for (const NODE_ENV of ['production', 'development']) {
      const env = { ...base, NODE_ENV, ADMIN_TOKEN: 'the-admin-token-0123' };
      for (const [keys, problem] of [
        ['client:secret-value\t0123456789', /entry 1 \(client\): the key must be visible ASCII/],
        ['client:secret-value\n0123456789', /entry 1 \(client\): the key must be visible ASCII/],
        ['operator:secret-valué-0123456789', /entry 1 \(operator\): the key must be visible ASCII/],
        ['client:secret-value-0123456789,admin:the-admin-token-0123', /entry 2 \(admin\): the key is ADMIN_TOKEN/],
        ['client:the-admin-token-0123', /entry 1 \(client\): the key is ADMIN_TOKEN/],
      ] as const) {
        let message = '';
        try {
          loadConfig({ ...env, SAGAFLOW_API_KEYS: keys });
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message, JSON.stringify({ NODE_ENV, keys })).toMatch(/SAGAFLOW_API_KEYS: entry \d/);
        expect(message, keys).toMatch(problem);
        expect(message).not.toMatch(/secret-val|the-admin-token/);
      }
      expect(loadConfig({ ...env, SAGAFLOW_API_KEYS: 'admin:another-token-0123' }).apiKeys).toHaveLength(1);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...base, REDIS_URL: '', ADMIN_TOKEN: '' })).toMatchObject({
      redisUrl: undefined,
      adminToken: undefined,
    });
  });
});
