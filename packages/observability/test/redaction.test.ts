import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { parseRedactKeys, REDACTED, redactionMatcher, redactLogRecord, redactUrlQuery } from '../src/log-redaction.js';

const matches = redactionMatcher();

describe('redactLogRecord', () => {
  it('hides keys containing a built-in substring, at any depth of input, context, output, body and errors', () => {
    const record = {
      runId: 'r-1',
      input: {
        orderId: 'o-1',
        customer: { profile: { email: 'a@b.c' } },
        payments: [{ cardNumber: '4111', last4: '1' }],
      },
      context: { userPassword: 'p', client_secret: 's', 'X-Api-Key': 'k', apiKey: 'k2' },
      output: { session: { accessToken: 't' } },
      body: { nested: [[{ customer_email: 'x@y.z' }]] },
      error: { code: 'HTTP_ERROR', response: { sessionId: 'sid', Authorization: 'Bearer x' } },
      headers: { 'set-cookie': 'c', 'x-admin-token': 'a', accept: '*/*' },
    };
    expect(redactLogRecord(record, matches)).toEqual({
      runId: 'r-1',
      input: {
        orderId: 'o-1',
        customer: { profile: { email: REDACTED } },
        payments: [{ cardNumber: REDACTED, last4: '1' }],
      },
      context: { userPassword: REDACTED, client_secret: REDACTED, 'X-Api-Key': REDACTED, apiKey: REDACTED },
      output: { session: REDACTED },
      body: { nested: [[{ customer_email: REDACTED }]] },
      error: { code: 'HTTP_ERROR', response: { sessionId: REDACTED, Authorization: REDACTED } },
      headers: { 'set-cookie': REDACTED, 'x-admin-token': REDACTED, accept: '*/*' },
    });
  });

  it('leaves the ids a run line carries alone', () => {
    const ids = { correlationId: 'c', runId: 'r', workflowName: 'w', stepId: 's', requestId: 'q', outboxId: 1 };
    expect(redactLogRecord(ids, matches)).toEqual(ids);
  });

  it('adds configured substrings to the built-in list (they cannot be removed)', () => {
    const more = redactionMatcher(['ssn', 'IBAN']);
    expect(redactLogRecord({ input: { ssn: '1', payoutIban: 'x', email: 'e', name: 'n' } }, more)).toEqual({
      input: { ssn: REDACTED, payoutIban: REDACTED, email: REDACTED, name: 'n' },
    });
  });

  it('returns a copy, leaves non-plain objects (errors, dates) to their serializers, and survives cycles', () => {
    const error = Object.assign(new Error('boom'), { token: 'kept-on-the-error' });
    const when = new Date(0);
    const input: Record<string, unknown> = { email: 'a@b.c' };
    const record = { input, err: error, at: when };
    const out = redactLogRecord(record, matches);
    expect(input['email']).toBe('a@b.c');
    expect(out.err).toBe(error);
    expect(out.at).toBe(when);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(JSON.stringify(redactLogRecord({ cyclic }, matches))).toContain('[too deep]');
  });
});

describe('parseRedactKeys (LOG_REDACT_KEYS, LOG_REDACT_FIELDS)', () => {
  it('reads comma lists, lower-cased and deduplicated; unset adds nothing', () => {
    expect(parseRedactKeys('ssn, Iban ,,', 'iban,pin')).toEqual(['ssn', 'iban', 'pin']);
    expect(parseRedactKeys('', undefined)).toEqual([]);
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

  it('configured keys add to the built-in ones', () => {
    const out = capture();
    const logger = createLogger({
      name: 'sagaflow-engine',
      level: 'info',
      sensitive: false,
      redactKeys: ['ssn'],
      destination: out.destination,
    });
    logger.info({ input: { ssn: '123-45', email: 'a@b.c', city: 'x' } }, 'run started');
    expect(JSON.parse(out.text())).toMatchObject({ input: { ssn: REDACTED, email: REDACTED, city: 'x' } });
  });

  it('caps every field at about 2 KiB, sensitive or not, and still redacts what it keeps', () => {
    for (const sensitive of [false, true]) {
      const out = capture();
      const logger = createLogger({ name: 'sagaflow-engine', level: 'info', sensitive, destination: out.destination });
      const huge = 'x'.repeat(256 * 1024);
      logger.warn(
        { error: { code: 'HTTP_ERROR', response: { password: 'p', data: huge } }, body: huge },
        'step attempt failed; retry scheduled',
      );
      const line = out.text();
      expect(line.length).toBeLessThan(5 * 1024);
      const record = JSON.parse(line) as { error: { code: string; response: Record<string, string> }; body: string };
      expect(record.error.code).toBe('HTTP_ERROR');
      expect(record.error.response.password).toBe(sensitive ? 'p' : REDACTED);
      expect(record.body).toMatch(/…\[\d+ more chars\]$/);
    }
  });
});

describe('redactUrlQuery', () => {
  const matches = redactionMatcher(['iban']);

  it('hides the values of matching query parameters and inside JSON filters, keeping the rest', () => {
    const url =
      '/v1/runs?status=FAILED&token=tok-1&input=' + encodeURIComponent('{"customer":{"email":"a@b.c"},"n":1}');
    const shown = new URL(redactUrlQuery(url, matches), 'http://x');
    expect(shown.pathname).toBe('/v1/runs');
    expect(shown.searchParams.get('status')).toBe('FAILED');
    expect(shown.searchParams.get('token')).toBe(REDACTED);
    expect(JSON.parse(shown.searchParams.get('input')!)).toEqual({ customer: { email: REDACTED }, n: 1 });
    expect(redactUrlQuery('/v1/runs?myIBAN=DE00', matches)).not.toContain('DE00');
  });

  it('returns a URL with nothing to hide unchanged', () => {
    for (const url of ['/v1/runs', '/v1/runs?status=FAILED&limit=5', '/v1/runs?context=%7Bbroken'])
      expect(redactUrlQuery(url, matches)).toBe(url);
  });
});
