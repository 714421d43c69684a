import { describe, expect, it } from 'vitest';
import { describeHeaderValueProblem, renderUrlTemplate, TemplateError, type TemplateScope } from '../src/index.js';

function scope(input: Record<string, unknown>): TemplateScope {
  return {
    input,
    context: {},
    run: { runId: 'run-1', workflowName: 'w', workflowVersion: '1.0.0' },
    steps: { charge: { output: { id: 'ch/1' } } },
  };
}

const render = (template: string, input: Record<string, unknown>): string => renderUrlTemplate(template, scope(input));

function refusal(template: string, input: Record<string, unknown>): TemplateError {
  try {
    render(template, input);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    return error as TemplateError;
  }
  throw new Error(`expected ${template} with ${JSON.stringify(input)} to be refused`);
}

describe('renderUrlTemplate: a value is one encoded component (docs/contract.md#security)', () => {
  it('cannot add path segments, a query or a fragment', () => {
    expect(render('/orders/{{input.id}}', { id: '../admin/reset?x=' })).toBe('/orders/..%2Fadmin%2Freset%3Fx%3D');
    expect(render('/orders/{{input.id}}', { id: 'a#frag' })).toBe('/orders/a%23frag');
    expect(render('/orders/{{input.id}}/items', { id: 'a/b' })).toBe('/orders/a%2Fb/items');
    expect(new URL(render('/orders/{{input.id}}', { id: '../admin' }), 'http://h').pathname).toBe('/orders/..%2Fadmin');
  });

  it('cannot add query parameters', () => {
    expect(render('/search?q={{input.q}}&page=1', { q: 'x&admin=1' })).toBe('/search?q=x%26admin%3D1&page=1');
    const url = new URL(render('/search?q={{input.q}}&page=1', { q: 'a b&c=d+e' }), 'http://h');
    expect([...url.searchParams]).toEqual([
      ['q', 'a b&c=d+e'],
      ['page', '1'],
    ]);
  });

  it('encodes percent signs, spaces and non-ASCII text, and renders numbers and objects as text', () => {
    expect(render('/p/{{input.v}}', { v: '100%' })).toBe('/p/100%25');
    expect(render('/p/{{input.v}}', { v: 'café ü' })).toBe('/p/caf%C3%A9%20%C3%BC');
    expect(render('/p/{{input.v}}', { v: 42 })).toBe('/p/42');
    expect(render('/p/{{input.v}}', { v: { a: 1 } })).toBe('/p/%7B%22a%22%3A1%7D');
    expect(render('/charges/{{steps.charge.output.id}}', {})).toBe('/charges/ch%2F1');
  });

  it('keeps the literal text of the template as written, including an absolute url', () => {
    expect(render('/a/b?c=d&e=f', {})).toBe('/a/b?c=d&e=f');
    // braces that are not a whole template are literal text, with or without a template beside them
    expect(render('/a/{x}/{{b', {})).toBe('/a/{x}/{{b');
    expect(render('/a/{x}/{{input.id}}', { id: 'y' })).toBe('/a/{x}/y');
    expect(render('http://127.0.0.1:4010/orders/{{input.id}}?v={{input.v}}', { id: 'x/y', v: '1&2' })).toBe(
      'http://127.0.0.1:4010/orders/x%2Fy?v=1%262',
    );
  });

  it('refuses a value that would be a "." or ".." segment', () => {
    expect(refusal('/orders/{{input.id}}', { id: '..' }).path).toBe('input.id');
    expect(refusal('/orders/{{input.id}}/x', { id: '.' }).message).toContain('"." path segment');
    expect(refusal('/orders/{{input.a}}{{input.b}}', { a: '.', b: '.' }).path).toBe('input.a');
    // not a whole segment, or in the query: harmless
    expect(render('/orders/v{{input.id}}', { id: '..' })).toBe('/orders/v..');
    expect(render('/orders?id={{input.id}}', { id: '..' })).toBe('/orders?id=..');
  });

  it('fails with TEMPLATE_ERROR on a missing value or text that is not valid Unicode', () => {
    expect(refusal('/orders/{{input.missing}}', {}).code).toBe('TEMPLATE_ERROR');
    expect(refusal('/orders/{{input.id}}', { id: 'a\ud800' }).message).toContain('not valid Unicode');
  });
});

describe('describeHeaderValueProblem (checked at registration and after rendering)', () => {
  it('accepts tab, visible ASCII and Latin-1', () => {
    expect(describeHeaderValueProblem('Bearer abc\tdéf ÿ')).toBeUndefined();
  });

  it('refuses CR, LF, NUL, other control characters and characters outside Latin-1', () => {
    for (const bad of ['a\r\nb: c', 'a\nb', 'a\0', 'a\x01', 'a\x7f', 'snow ☃', 'emoji 😀']) {
      expect(describeHeaderValueProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
  });
});
