import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env.js';

const base = { DATABASE_URL: 'postgres://127.0.0.1/x' };

describe('engine env', () => {
  it('defaults: 200 in flight, claims of 64, heap growing 50 %', () => {
    const env = parseEnv(base);
    expect(env).toMatchObject({ ENGINE_CONCURRENCY: 200, ENGINE_BATCH_SIZE: 64, ENGINE_HEAP_GROWING_PERCENT: 50 });
  });

  it('takes 0 (V8 decides) and rejects a negative heap growing percent, naming the variable', () => {
    expect(parseEnv({ ...base, ENGINE_HEAP_GROWING_PERCENT: '0' }).ENGINE_HEAP_GROWING_PERCENT).toBe(0);
    expect(() => parseEnv({ ...base, ENGINE_HEAP_GROWING_PERCENT: '-1' })).toThrow(/ENGINE_HEAP_GROWING_PERCENT/);
  });

  it('takes handed first steps by default; ENGINE_HANDOFF=false turns it off, anything else is refused', () => {
    expect(parseEnv(base).ENGINE_HANDOFF).toBe('true');
    expect(parseEnv({ ...base, ENGINE_HANDOFF: 'false' }).ENGINE_HANDOFF).toBe('false');
    expect(() => parseEnv({ ...base, ENGINE_HANDOFF: 'no' })).toThrow(/ENGINE_HANDOFF/);
  });

  it('buffers 4 KiB of log lines by default; LOG_BUFFER_BYTES=0 turns it off, past 16,383 is refused', () => {
    expect(parseEnv(base).LOG_BUFFER_BYTES).toBe(4096);
    expect(parseEnv({ ...base, LOG_BUFFER_BYTES: '0' }).LOG_BUFFER_BYTES).toBe(0);
    expect(() => parseEnv({ ...base, LOG_BUFFER_BYTES: '16384' })).toThrow(/LOG_BUFFER_BYTES/);
  });

  it('needs a postgres:// or postgresql:// DATABASE_URL, naming the variable', () => {
    expect(parseEnv({ DATABASE_URL: 'postgresql://u@db:5432/x' }).DATABASE_URL).toBe('postgresql://u@db:5432/x');
    for (const bad of ['notaurl', 'mysql://x/y', 'redis://x', ''])
      expect(() => parseEnv({ DATABASE_URL: bad }), bad).toThrow(/DATABASE_URL/);
    expect(() => parseEnv({})).toThrow(/DATABASE_URL/);
  });

  it('listens on loopback unless ENGINE_HOST says otherwise (containers set 0.0.0.0)', () => {
    expect(parseEnv(base).ENGINE_HOST).toBe('127.0.0.1');
    expect(parseEnv({ ...base, ENGINE_HOST: '0.0.0.0' }).ENGINE_HOST).toBe('0.0.0.0');
  });

  it('LOG_REDACT_KEYS and LOG_REDACT_FIELDS add key substrings to the built-in redaction list', () => {
    expect(parseEnv(base).redactKeys).toEqual([]);
    expect(parseEnv({ ...base, LOG_REDACT_KEYS: 'IBAN, ssn', LOG_REDACT_FIELDS: 'pin' }).redactKeys).toEqual([
      'iban',
      'ssn',
      'pin',
    ]);
  });
});

describe('engine env: destinations', () => {
  it('parses SAGAFLOW_ALLOWED_HOSTS with ports, naming the variable on a bad entry', () => {
    expect(parseEnv({ ...base, SAGAFLOW_ALLOWED_HOSTS: 'a.internal,127.0.0.1:4010' }).allowedHosts).toEqual([
      { host: 'a.internal' },
      { host: '127.0.0.1', port: 4010 },
    ]);
    expect(() => parseEnv({ ...base, SAGAFLOW_ALLOWED_HOSTS: 'a:99999' })).toThrow(/SAGAFLOW_ALLOWED_HOSTS/);
  });

  it('has the demo mocks as service URLs outside production only', () => {
    expect(parseEnv(base).serviceUrls).toMatchObject({ payments: 'http://127.0.0.1:3001' });
    expect(parseEnv({ ...base, NODE_ENV: 'production' }).serviceUrls).toEqual({});
    expect(
      parseEnv({ ...base, NODE_ENV: 'production', SAGAFLOW_SERVICE_PAYMENTS_URL: 'http://pay:80' }).serviceUrls,
    ).toEqual({ payments: 'http://pay:80' });
  });
});

describe('.env.example shows the engine defaults the code uses', () => {
  it('every commented ENGINE_* (and shared log/trace) line holds the parsed default', () => {
    const example = readFileSync(new URL('../../../../.env.example', import.meta.url), 'utf8');
    const defaults = parseEnv(base) as unknown as Record<string, unknown>;
    const shown = [...example.matchAll(/^# ((?:ENGINE|LOG|OTEL_BSP)_[A-Z_]+)=(.*)$/gm)].filter(
      ([, key]) => key !== 'ENGINE_ID' && key !== 'LOG_REDACT_FIELDS' && key !== 'LOG_REDACT_KEYS',
    );
    expect(shown.length).toBeGreaterThan(10);
    for (const [, key, value] of shown) expect(String(defaults[key!]), key).toBe(value);
  });
});
