import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import {
  DEFAULT_REDACT_FIELDS,
  parseRedactFields,
  REDACTED,
  redactionKeys,
  redactLogRecord,
} from '../src/log-redaction.js';

const keys = redactionKeys();

describe('redactLogRecord', () => {
  it('hides the default fields at any depth of input, context, output, body and errors', () => {
    const record = {
      runId: 'r-1',
      input: { orderId: 'o-1', customer: { profile: { email: 'a@b.c' } }, payments: [{ card: '4111', last4: '1111' }] },
      context: { password: 'p' },
      output: { session: { token: 't' } },
      body: { nested: [[{ email: 'x@y.z' }]] },
      error: { code: 'HTTP_ERROR', response: { email: 'e@f.g' } },
    };
    expect(redactLogRecord(record, keys)).toEqual({
      runId: 'r-1',
      input: {
        orderId: 'o-1',
        customer: { profile: { email: REDACTED } },
        payments: [{ card: REDACTED, last4: '1111' }],
      },
      context: { password: REDACTED },
      output: { session: { token: REDACTED } },
      body: { nested: [[{ email: REDACTED }]] },
      error: { code: 'HTTP_ERROR', response: { email: REDACTED } },
    });
  });

  it('matches whole keys case-insensitively', () => {
    expect(
      redactLogRecord({ input: { Email: 1, EMAIL: 2, emailVerified: true, customerEmail: 'kept' } }, keys),
    ).toEqual({
      input: { Email: REDACTED, EMAIL: REDACTED, emailVerified: true, customerEmail: 'kept' },
    });
  });

  it('always hides the admin token and authorization headers, whatever the field list', () => {
    const only = redactionKeys(['ssn']);
    const record = {
      req: { headers: { 'X-Admin-Token': 'secret', authorization: 'Bearer x', cookie: 'c', accept: '*/*' } },
      adminToken: 'secret',
      input: { ssn: '1', email: 'kept@x.y' },
    };
    expect(redactLogRecord(record, only)).toEqual({
      req: { headers: { 'X-Admin-Token': REDACTED, authorization: REDACTED, cookie: REDACTED, accept: '*/*' } },
      adminToken: REDACTED,
      input: { ssn: REDACTED, email: 'kept@x.y' },
    });
  });

  it('returns a copy, leaves non-plain objects (errors, dates) to their serializers, and survives cycles', () => {
    const error = Object.assign(new Error('boom'), { token: 'kept-on-the-error' });
    const when = new Date(0);
    const input: Record<string, unknown> = { email: 'a@b.c' };
    const record = { input, err: error, at: when };
    const out = redactLogRecord(record, keys);
    expect(input['email']).toBe('a@b.c');
    expect(out.err).toBe(error);
    expect(out.at).toBe(when);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(JSON.stringify(redactLogRecord({ cyclic }, keys))).toContain('[too deep]');
  });
});

describe('parseRedactFields (LOG_REDACT_FIELDS)', () => {
  it('reads a comma list; empty or unset means the defaults', () => {
    expect(parseRedactFields('ssn, Iban ,,')).toEqual(['ssn', 'Iban']);
    expect(parseRedactFields('')).toEqual(DEFAULT_REDACT_FIELDS);
    expect(parseRedactFields(undefined)).toEqual(['email', 'card', 'password', 'token']);
  });
});

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { destination: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
  };

  it('LOG_SENSITIVE=false: redacts every record (child loggers too)', () => {
    const out = capture();
    const logger = createLogger({
      name: 'sagaflow-engine',
      level: 'info',
      sensitive: false,
      destination: out.destination,
    });
    logger
      .child({ runId: 'r-1' })
      .info({ input: { customer: { email: 'a@b.c' } }, headers: { authorization: 'Bearer t' } }, 'run started');
    expect(out.text()).not.toContain('a@b.c');
    expect(out.text()).not.toContain('Bearer t');
    expect(JSON.parse(out.text())).toMatchObject({
      runId: 'r-1',
      name: 'sagaflow-engine',
      input: { customer: { email: REDACTED } },
    });
  });

  it('LOG_SENSITIVE=true: logs them as they are', () => {
    const out = capture();
    const logger = createLogger({
      name: 'sagaflow-engine',
      level: 'info',
      sensitive: true,
      destination: out.destination,
    });
    logger.info({ input: { email: 'a@b.c' } }, 'run started');
    expect(out.text()).toContain('a@b.c');
  });

  it('a configured list replaces the default fields', () => {
    const out = capture();
    const logger = createLogger({
      name: 'sagaflow-engine',
      level: 'info',
      sensitive: false,
      redactFields: ['ssn'],
      destination: out.destination,
    });
    logger.info({ input: { ssn: '123-45', email: 'a@b.c' } }, 'run started');
    expect(JSON.parse(out.text())).toMatchObject({ input: { ssn: REDACTED, email: 'a@b.c' } });
  });
});
