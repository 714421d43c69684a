import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError } from '@sagaflow/db';
import { codeOfStatus, mapDomainError, statusOfCode, toErrorBody } from '../src/errors.js';

const wrap = (cause: unknown) => new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });

describe('mapDomainError', () => {
  it('maps each domain error to its tRPC code and keeps the message', () => {
    expect(mapDomainError(wrap(new NotFoundError('run x not found')))).toMatchObject({
      code: 'NOT_FOUND',
      message: 'run x not found',
    });
    expect(mapDomainError(wrap(new ConflictError('busy'))).code).toBe('CONFLICT');
    expect(mapDomainError(wrap(new InvalidInputError('bad'))).code).toBe('BAD_REQUEST');
  });

  it('leaves other errors alone', () => {
    const error = wrap(new Error('boom'));
    expect(mapDomainError(error)).toBe(error);
  });
});

describe('toErrorBody', () => {
  it('never reveals a 5xx message and keeps issues only when there are some', () => {
    expect(toErrorBody('INTERNAL_SERVER_ERROR', 'password=hunter2')).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'internal error',
    });
    expect(toErrorBody('NOT_FOUND', 'run x not found', [])).toEqual({ code: 'NOT_FOUND', message: 'run x not found' });
    expect(toErrorBody('BAD_REQUEST', 'invalid', [{ code: 'x', path: [], message: 'm' }]).issues).toHaveLength(1);
    expect(toErrorBody('PARSE_ERROR', 'bad json').code).toBe('BAD_REQUEST');
  });

  it('maps statuses and codes both ways', () => {
    expect(codeOfStatus(413)).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOfStatus(415)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(codeOfStatus(400)).toBe('BAD_REQUEST');
    expect(codeOfStatus(418)).toBe('BAD_REQUEST');
    expect(codeOfStatus(502)).toBe('INTERNAL_SERVER_ERROR');
    expect(statusOfCode('TOO_MANY_REQUESTS')).toBe(429);
  });
});
