import { describe, expect, it } from 'vitest';
import { parseMockEnv } from '../src/env.js';

describe('parseMockEnv', () => {
  it('applies the defaults', () => {
    expect(parseMockEnv({})).toEqual({
      MOCK_HOST: '127.0.0.1',
      MOCK_PAYMENTS_PORT: 3001,
      MOCK_INVENTORY_PORT: 3002,
      MOCK_NOTIFICATIONS_PORT: 3003,
      LOG_LEVEL: 'info',
    });
  });

  it('parses given values', () => {
    const env = parseMockEnv({ MOCK_HOST: '0.0.0.0', MOCK_PAYMENTS_PORT: '0', LOG_LEVEL: 'debug' });
    expect(env).toMatchObject({ MOCK_HOST: '0.0.0.0', MOCK_PAYMENTS_PORT: 0, LOG_LEVEL: 'debug' });
  });

  it('names the bad variable', () => {
    expect(() => parseMockEnv({ MOCK_INVENTORY_PORT: '70000' })).toThrow(/MOCK_INVENTORY_PORT/);
    expect(() => parseMockEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
