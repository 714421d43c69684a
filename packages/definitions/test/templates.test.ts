import { describe, expect, it } from 'vitest';
import { TemplateError, listTemplatePaths, renderTemplate, type TemplateScope } from '../src/index.js';

function buildScope(): TemplateScope {
  return {
    input: {
      orderId: 'ord-1',
      amount: 42.5,
      express: false,
      customer: { id: 'c-1', tags: ['vip', 'eu'] },
      items: [{ sku: 'A' }, { sku: 'B' }],
      note: null,
    },
    context: { tenant: 'acme' },
    run: { runId: 'run-123', workflowName: 'order-processing', workflowVersion: '1.0.0' },
    steps: { 'charge-payment': { output: { chargeId: 'ch_9', total: 100 } } },
  };
}

function expectTemplateError(value: unknown, path: string, scope = buildScope()): TemplateError {
  try {
    renderTemplate(value, scope);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    const templateError = error as TemplateError;
    expect(templateError.code).toBe('TEMPLATE_ERROR');
    expect(templateError.path).toBe(path);
    expect(templateError.message).toContain(path);
    return templateError;
  }
  throw new Error(`expected a TemplateError for ${JSON.stringify(value)}`);
}

describe('renderTemplate: whole-string templates keep their JSON type', () => {
  it.each([
    ['{{input.amount}}', 42.5],
    ['{{input.express}}', false],
    ['{{input.customer}}', { id: 'c-1', tags: ['vip', 'eu'] }],
    ['{{input.customer.tags}}', ['vip', 'eu']],
    ['{{input.note}}', null],
    ['{{input.orderId}}', 'ord-1'],
    ['{{ input.amount }}', 42.5],
    ['{{input.items.1.sku}}', 'B'],
    ['{{context.tenant}}', 'acme'],
    ['{{run.runId}}', 'run-123'],
    ['{{run.workflowVersion}}', '1.0.0'],
    ['{{steps.charge-payment.output.chargeId}}', 'ch_9'],
    ['{{steps.charge-payment.output}}', { chargeId: 'ch_9', total: 100 }],
  ])('%s', (template, expected) => {
    expect(renderTemplate(template, buildScope())).toEqual(expected);
  });

  it('returns a copy, so changing the result never changes the scope', () => {
    const scope = buildScope();
    const rendered = renderTemplate('{{input.customer}}', scope) as { id: string };
    rendered.id = 'changed';
    expect((scope.input as { customer: { id: string } }).customer.id).toBe('c-1');
  });
});

describe('renderTemplate: interpolation inside text', () => {
  it.each([
    ['order {{input.orderId}}', 'order ord-1'],
    ['{{input.orderId}}-{{run.runId}}', 'ord-1-run-123'],
    ['total={{input.amount}}', 'total=42.5'],
    ['express={{input.express}}', 'express=false'],
    ['note={{input.note}}', 'note=null'],
    ['tags={{input.customer.tags}}', 'tags=["vip","eu"]'],
    ['c={{ input.customer }}', 'c={"id":"c-1","tags":["vip","eu"]}'],
    [' {{input.orderId}}', ' ord-1'],
    ['no templates here', 'no templates here'],
    ['{single} {{ braces', '{single} {{ braces'],
  ])('%s', (template, expected) => {
    expect(renderTemplate(template, buildScope())).toBe(expected);
  });
});

describe('renderTemplate: deep values', () => {
  it('renders every string at any depth and leaves other values and keys alone', () => {
    const body = {
      orderId: '{{input.orderId}}',
      amount: '{{input.amount}}',
      lines: [{ sku: '{{input.items.0.sku}}', qty: 1 }, 'ref {{steps.charge-payment.output.chargeId}}'],
      flag: true,
      none: null,
      '{{input.orderId}}': 'key stays',
    };
    expect(renderTemplate(body, buildScope())).toEqual({
      orderId: 'ord-1',
      amount: 42.5,
      lines: [{ sku: 'A', qty: 1 }, 'ref ch_9'],
      flag: true,
      none: null,
      '{{input.orderId}}': 'key stays',
    });
  });

  it('does not mutate its input or the scope', () => {
    const body = { a: ['{{input.orderId}}'], b: { c: '{{input.amount}}' } };
    const snapshot = structuredClone(body);
    const scope = buildScope();
    const scopeSnapshot = structuredClone(scope);
    renderTemplate(body, scope);
    expect(body).toEqual(snapshot);
    expect(scope).toEqual(scopeSnapshot);
  });

  it('passes non-template primitives through', () => {
    for (const value of [1, true, null, undefined]) expect(renderTemplate(value, buildScope())).toBe(value);
  });

  it('keeps a "__proto__" key of the input as plain data', () => {
    const body = JSON.parse('{"__proto__": {"polluted": "{{input.orderId}}"}}') as unknown;
    const rendered = renderTemplate(body, buildScope()) as Record<string, unknown>;
    expect(Object.hasOwn(rendered, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('renderTemplate: errors', () => {
  it('names the missing path', () => {
    expectTemplateError('{{input.missing}}', 'input.missing');
    expectTemplateError('id {{input.customer.nope}}', 'input.customer.nope');
    expectTemplateError({ deep: ['{{steps.reserve-inventory.output.id}}'] }, 'steps.reserve-inventory.output.id');
    expectTemplateError('{{input.items.5.sku}}', 'input.items.5.sku');
    expectTemplateError('{{input.items.x}}', 'input.items.x');
    expectTemplateError('{{input.items.01}}', 'input.items.01');
    expectTemplateError('{{input.orderId.length}}', 'input.orderId.length');
    expectTemplateError('{{input.items.length}}', 'input.items.length');
    expectTemplateError('{{input.note.x}}', 'input.note.x');
  });

  it('rejects roots outside the scope rules, never reading the environment', () => {
    expect(expectTemplateError('{{env.HOME}}', 'env.HOME').message).toContain('unknown template root "env"');
    expectTemplateError('{{process.env.PATH}}', 'process.env.PATH');
    expectTemplateError('{{run.status}}', 'run.status');
    expectTemplateError('{{steps.charge-payment}}', 'steps.charge-payment');
    expectTemplateError('{{}}', '');
  });

  it('treats prototype keys as missing', () => {
    expectTemplateError('{{input.__proto__}}', 'input.__proto__');
    expectTemplateError('{{input.constructor}}', 'input.constructor');
    expectTemplateError('{{input.constructor.prototype}}', 'input.constructor.prototype');
    expectTemplateError('{{input.customer.toString}}', 'input.customer.toString');
    expectTemplateError('{{input.hasOwnProperty}}', 'input.hasOwnProperty');
    expectTemplateError('{{steps.__proto__.output}}', 'steps.__proto__.output');
    expectTemplateError('{{steps.toString.output}}', 'steps.toString.output');
    const scope = buildScope();
    scope.input = JSON.parse('{"__proto__": {"x": 1}}');
    expectTemplateError('{{input.__proto__.x}}', 'input.__proto__.x', scope);
  });

  it('treats a missing context as missing', () => {
    const scope = { ...buildScope(), context: undefined };
    expectTemplateError('{{context}}', 'context', scope);
  });
});

describe('listTemplatePaths', () => {
  it('lists every distinct path in strings at any depth, in order, trimmed', () => {
    const value = {
      a: '{{input.orderId}}',
      b: ['x {{ run.runId }} y {{input.orderId}}', { c: '{{steps.charge-payment.output.id}}' }],
      '{{key.ignored}}': 1,
      d: 7,
    };
    expect(listTemplatePaths(value)).toEqual(['input.orderId', 'run.runId', 'steps.charge-payment.output.id']);
  });

  it('includes invalid paths so the checks can report them', () => {
    expect(listTemplatePaths(['{{secrets.key}}', '{{ }}'])).toEqual(['secrets.key', '']);
  });

  it('is empty for values without templates', () => {
    expect(listTemplatePaths({ a: 'plain', b: [1, null, '{single}'] })).toEqual([]);
    expect(listTemplatePaths(undefined)).toEqual([]);
  });
});
