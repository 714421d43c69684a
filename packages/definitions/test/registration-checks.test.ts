import { describe, expect, it } from 'vitest';
import { checkDefinition, parseWorkflowDefinition, workflowDefinitionSchema } from '../src/index.js';
import { buildDefinitionDoc, buildStep, expectRejected, rejectIssues, type LooseDoc } from './definition-fixture.js';

function withBody(stepIndex: number, body: unknown): LooseDoc {
  const doc = buildDefinitionDoc();
  doc.steps[stepIndex].request.body = body;
  return doc;
}

describe('registration checks: ids', () => {
  it('rejects a duplicate step id at its second occurrence', () => {
    const doc = {
      name: 'w',
      version: '1.0.0',
      steps: [buildStep('charge-payment'), buildStep('other'), buildStep('charge-payment')],
    };
    const issue = expectRejected(doc, 'duplicate step id "charge-payment"', ['steps', 2, 'id']);
    expect(issue.code).toBe('duplicate_step_id');
  });

  it('rejects a duplicate compensation id', () => {
    const doc: LooseDoc = { name: 'w', version: '1.0.0', steps: [buildStep('a'), buildStep('b')] };
    doc.steps[0].compensation = { id: 'undo', request: { method: 'POST', service: 'svc', path: '/u' } };
    doc.steps[1].compensation = { id: 'undo', request: { method: 'POST', service: 'svc', path: '/u' } };
    const issue = expectRejected(doc, 'duplicate compensation id "undo"', ['steps', 1, 'compensation', 'id']);
    expect(issue.code).toBe('duplicate_compensation_id');
  });

  it('rejects a compensation id equal to any step id, earlier or later', () => {
    const doc: LooseDoc = { name: 'w', version: '1.0.0', steps: [buildStep('a'), buildStep('b')] };
    doc.steps[0].compensation = { id: 'b', request: { method: 'POST', service: 'svc', path: '/u' } };
    expectRejected(doc, 'compensation id "b" is also a step id', ['steps', 0, 'compensation', 'id']);
    doc.steps[0].compensation.id = 'a';
    expectRejected(doc, 'compensation id "a" is also a step id');
  });

  it('reports id problems together with format problems', () => {
    const doc = { name: 'Bad', version: '1.0.0', steps: [buildStep('a'), buildStep('a')] };
    const messages = rejectIssues(doc).map((issue) => issue.message);
    expect(messages.some((m) => m.startsWith('name "Bad" is invalid'))).toBe(true);
    expect(messages).toContain('duplicate step id "a"');
  });
});

describe('registration checks: template roots', () => {
  it('rejects an unknown root naming it and the template', () => {
    const issue = expectRejected(
      withBody(1, { key: '{{secrets.key}}' }),
      'unknown template root "secrets" in "{{secrets.key}}"',
      ['steps', 1, 'request', 'body', 'key'],
    );
    expect(issue.code).toBe('unknown_template_root');
  });

  it('rejects env-like roots', () => {
    expectRejected(withBody(1, '{{env.DATABASE_URL}}'), 'unknown template root "env"');
    expectRejected(withBody(1, '{{process.env.HOME}}'), 'unknown template root "process"');
  });

  it('rejects run fields other than runId, workflowName, workflowVersion', () => {
    expectRejected(withBody(1, '{{run.status}}'), 'must be one of run.runId, run.workflowName, run.workflowVersion');
    expectRejected(withBody(1, '{{run}}'), 'must be one of run.runId');
    expectRejected(withBody(1, '{{run.runId.length}}'), 'must be one of run.runId');
  });

  it('rejects steps references without .output', () => {
    expectRejected(withBody(1, '{{steps.charge-payment}}'), 'must have the form steps.<stepId>.output');
    expectRejected(withBody(1, '{{steps.charge-payment.status}}'), 'must have the form steps.<stepId>.output');
    expectRejected(withBody(1, '{{steps}}'), 'must have the form steps.<stepId>.output');
  });

  it('rejects empty templates, empty segments and forbidden segments', () => {
    expectRejected(withBody(1, '{{ }}'), 'empty template "{{ }}"');
    expectRejected(withBody(1, 'a {{}} b'), 'empty template "{{}}"');
    expectRejected(withBody(1, '{{input..a}}'), 'has an empty path segment');
    expectRejected(withBody(1, '{{input.}}'), 'has an empty path segment');
    expectRejected(withBody(1, '{{input.__proto__.x}}'), 'forbidden segment "__proto__"');
    expectRejected(withBody(1, '{{context.constructor}}'), 'forbidden segment "constructor"');
  });

  it('checks templates in nested body arrays, headers, path and url', () => {
    expectRejected(withBody(1, { a: [{ b: ['x {{nope.y}} z'] }] }), 'unknown template root "nope"', [
      'steps',
      1,
      'request',
      'body',
      'a',
      0,
      'b',
      0,
    ]);
    const headers = buildDefinitionDoc();
    headers.steps[1].request.headers = { 'x-key': '{{secret.key}}' };
    expectRejected(headers, 'unknown template root "secret"', ['steps', 1, 'request', 'headers', 'x-key']);
    const path = buildDefinitionDoc();
    path.steps[1].request.path = '/r/{{bad.id}}';
    expectRejected(path, 'unknown template root "bad"', ['steps', 1, 'request', 'path']);
    const url = buildDefinitionDoc();
    url.steps[2].request.url = 'http://127.0.0.1:3003/e/{{steps.later.output.id}}';
    expectRejected(url, 'references unknown step "later"', ['steps', 2, 'request', 'url']);
  });

  it('accepts every allowed root, whitespace inside braces, and leaves object keys alone', () => {
    const doc = withBody(2, {
      whole: '{{input}}',
      ctx: '{{ context.tenant }}',
      run: 'run {{run.runId}} of {{run.workflowName}}@{{run.workflowVersion}}',
      prior: '{{steps.reserve-inventory.output.items.0.sku}}',
      '{{not.a.template}}': 'keys are never templates',
    });
    expect(parseWorkflowDefinition(doc).success).toBe(true);
  });
});

describe('registration checks: step order', () => {
  it('rejects a reference to an unknown step', () => {
    const issue = expectRejected(
      withBody(1, '{{steps.nope.output}}'),
      'step "reserve-inventory" references unknown step "nope"',
    );
    expect(issue.code).toBe('unknown_step_reference');
  });

  it('rejects a forward reference', () => {
    const issue = expectRejected(
      withBody(1, { email: '{{steps.send-confirmation-email.output.id}}' }),
      'step "reserve-inventory" references step "send-confirmation-email" which does not run before it',
      ['steps', 1, 'request', 'body', 'email'],
    );
    expect(issue.code).toBe('step_not_run_before');
  });

  it('rejects a step referencing its own output', () => {
    expectRejected(
      withBody(1, '{{steps.reserve-inventory.output}}'),
      'references step "reserve-inventory" which does not run before it',
    );
  });

  it('accepts references to earlier steps', () => {
    expect(parseWorkflowDefinition(withBody(2, '{{steps.charge-payment.output.id}}')).success).toBe(true);
  });

  it('lets a compensation read its own step and earlier ones, not later ones', () => {
    const doc = buildDefinitionDoc();
    doc.steps[1].compensation = {
      id: 'release-inventory',
      request: {
        method: 'POST',
        service: 'inventory',
        path: '/release',
        body: { r: '{{steps.reserve-inventory.output.id}}', c: '{{steps.charge-payment.output.id}}' },
      },
    };
    expect(parseWorkflowDefinition(doc).success).toBe(true);
    doc.steps[1].compensation.request.body = { e: '{{steps.send-confirmation-email.output.id}}' };
    expectRejected(
      doc,
      'compensation "release-inventory" references step "send-confirmation-email" which does not run before it',
      ['steps', 1, 'compensation', 'request', 'body', 'e'],
    );
  });

  it('reports every problem, not just the first', () => {
    const doc = withBody(1, {
      a: '{{secrets.a}}',
      b: '{{steps.nope.output}}',
      c: '{{steps.send-confirmation-email.output}}',
    });
    expect(rejectIssues(doc).map((issue) => issue.code)).toEqual([
      'unknown_template_root',
      'unknown_step_reference',
      'step_not_run_before',
    ]);
  });
});

describe('registration checks through the schema directly', () => {
  it('surfaces the checks as zod custom issues with params.code, as tRPC input would see them', () => {
    const result = workflowDefinitionSchema.safeParse(withBody(1, '{{secrets.x}}'));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'custom', params: { code: 'unknown_template_root' } });
  });

  it('checkDefinition is empty for a sound definition', () => {
    const result = parseWorkflowDefinition(buildDefinitionDoc());
    if (!result.success) throw new Error('fixture must be valid');
    expect(checkDefinition(result.data)).toEqual([]);
  });
});
