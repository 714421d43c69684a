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
