import { describe, expect, it } from 'vitest';
import {
  compensationSchema,
  parseWorkflowDefinition,
  retryPolicyInputSchema,
  stepRequestSchema,
  stepSchema,
  workflowDefinitionSchema,
} from '../src/index.js';
import { buildDefinitionDoc, buildStep, expectRejected, rejectIssues, type LooseDoc } from './definition-fixture.js';

describe('workflow definition: valid documents', () => {
  it('accepts the fixture and returns it unchanged', () => {
    const doc = buildDefinitionDoc();
    const result = parseWorkflowDefinition(doc);
    expect(result).toEqual({ success: true, data: doc });
  });

  it('accepts the docs/contract.md#definitions example with headers, retry and description', () => {
    const doc = buildDefinitionDoc();
    doc.description = 'optional text';
    doc.steps[0].request.headers = { 'x-api-version': '2', 'x-order': '{{input.orderId}}' };
    doc.steps[0].timeoutMs = 5000;
    doc.steps[0].retry = {
      maxAttempts: 5,
      initialIntervalMs: 200,
      backoffCoefficient: 2,
      maxIntervalMs: 30000,
      jitter: 'full',
    };
    doc.steps[0].compensation.timeoutMs = 5000;
    doc.steps[0].compensation.retry = { maxAttempts: 10 };
    expect(parseWorkflowDefinition(doc).success).toBe(true);
  });

  it('accepts 1 and 50 steps, and boundary names and versions', () => {
    const one = { name: 'a', version: '0.0.0', steps: [buildStep('only')] };
    expect(parseWorkflowDefinition(one).success).toBe(true);
    const fifty = {
      name: 'a'.repeat(63),
      version: '1.2.3-rc.1+build.5',
      steps: Array.from({ length: 50 }, (_, i) => buildStep(`s${i}`)),
    };
    expect(parseWorkflowDefinition(fifty).success).toBe(true);
  });

  it('accepts every method, and GET/DELETE without body', () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(stepRequestSchema.safeParse({ method, service: 'svc', path: '/x' }).success, method).toBe(true);
    }
  });

  it('accepts any JSON body, including null, arrays and nesting', () => {
    for (const body of [null, 1, 'text', true, [1, { a: [null] }], { deep: { list: ['{{input.x}}'] } }]) {
      expect(stepRequestSchema.safeParse({ method: 'POST', url: 'https://pay.example.com/c', body }).success).toBe(
        true,
      );
    }
  });

  it('accepts templates in path and in the url after the host', () => {
    expect(
      stepRequestSchema.safeParse({ method: 'GET', service: 'svc', path: '/orders/{{input.orderId}}' }).success,
    ).toBe(true);
    expect(
      stepRequestSchema.safeParse({ method: 'GET', url: 'http://127.0.0.1:4010/o/{{input.id}}?q={{run.runId}}' })
        .success,
    ).toBe(true);
  });

  it('exposes the nested schemas on their own', () => {
    expect(retryPolicyInputSchema.safeParse({}).success).toBe(true);
    expect(
      compensationSchema.safeParse({ id: 'undo', request: { method: 'POST', service: 'svc', path: '/u' } }).success,
    ).toBe(true);
    expect(stepSchema.safeParse(buildStep('do')).success).toBe(true);
    expect(workflowDefinitionSchema.safeParse(buildDefinitionDoc()).success).toBe(true);
  });
});

describe('workflow definition: name, version, description, steps', () => {
  it.each(['Order', '-order', 'order_processing', 'order processing', '', 'a'.repeat(64), 'ñ'])(
    'rejects name %j',
    (name) => {
      expectRejected({ ...buildDefinitionDoc(), name }, /^name .* is invalid/, ['name']);
    },
  );

  it.each([
    '1.0',
    '1',
    'v1.0.0',
    '=1.0.0',
    ' 1.0.0',
    '01.0.0',
    '1.0.0-',
    '1.0.0-01',
    '1.0.0+',
    'latest',
    '',
    '9007199254740992.0.0',
  ])('rejects version %j', (version) => {
    expectRejected({ ...buildDefinitionDoc(), version }, 'is not semver', ['version']);
  });

  it('rejects a non-string name and version', () => {
    expectRejected({ ...buildDefinitionDoc(), name: 7 }, 'name must be a string', ['name']);
    expectRejected({ ...buildDefinitionDoc(), version: 1 }, 'version must be a string', ['version']);
  });

  it('rejects a description over 2000 characters', () => {
    expectRejected({ ...buildDefinitionDoc(), description: 'x'.repeat(2001) }, 'at most 2000 characters', [
      'description',
    ]);
    expect(parseWorkflowDefinition({ ...buildDefinitionDoc(), description: 'x'.repeat(2000) }).success).toBe(true);
  });

  it('rejects 0 steps and 51 steps', () => {
    expectRejected({ ...buildDefinitionDoc(), steps: [] }, 'at least 1 step', ['steps']);
    const steps = Array.from({ length: 51 }, (_, i) => buildStep(`s${i}`));
    expectRejected({ ...buildDefinitionDoc(), steps }, 'at most 50 steps', ['steps']);
  });

  it('rejects missing fields and non-object documents', () => {
    expect(rejectIssues({ version: '1.0.0', steps: [buildStep('a')] }).map((i) => i.path)).toEqual([['name']]);
    expectRejected({ name: 'a', version: '1.0.0' }, 'steps must be an array', ['steps']);
    for (const doc of [null, 'x', 42, []]) expect(parseWorkflowDefinition(doc).success).toBe(false);
  });

  it.each(['Bad', 'a_b', '-x', ''])('rejects step id %j', (id) => {
    const doc = buildDefinitionDoc();
    doc.steps[1].id = id;
    expectRejected(doc, /^step id .* is invalid/, ['steps', 1, 'id']);
  });

  it('rejects an invalid compensation id', () => {
    const doc = buildDefinitionDoc();
    doc.steps[0].compensation.id = 'Refund';
    expectRejected(doc, 'compensation id "Refund" is invalid', ['steps', 0, 'compensation', 'id']);
  });
});

describe('workflow definition: unknown keys', () => {
  it('rejects unknown keys at every level', () => {
    const cases: [(doc: LooseDoc) => void, (string | number)[]][] = [
      [(doc) => (doc.owner = 'me'), []],
      [(doc) => (doc.steps[0].when = 'always'), ['steps', 0]],
      [(doc) => (doc.steps[0].request.query = {}), ['steps', 0, 'request']],
      [(doc) => (doc.steps[0].compensation.extra = 1), ['steps', 0, 'compensation']],
      [(doc) => (doc.steps[0].compensation.request.timeout = 1), ['steps', 0, 'compensation', 'request']],
      [(doc) => (doc.steps[0].retry = { maxAttempts: 2, retries: 3 }), ['steps', 0, 'retry']],
    ];
    for (const [mutate, path] of cases) {
      const doc = buildDefinitionDoc();
      mutate(doc);
      const issue = expectRejected(doc, 'Unrecognized key', path);
      expect(issue.code).toBe('unrecognized_keys');
    }
  });
});

describe('workflow definition: request target', () => {
  function withRequest(request: Record<string, unknown>): LooseDoc {
    const doc = buildDefinitionDoc();
    doc.steps[1].request = request;
    return doc;
  }

  it('rejects both url and service', () => {
    const issue = expectRejected(
      withRequest({ method: 'POST', service: 'svc', path: '/x', url: 'http://h/x' }),
      'either "url" or "service" + "path", not both',
    );
    expect(issue.code).toBe('invalid_request_target');
    expectRejected(withRequest({ method: 'POST', path: '/x', url: 'http://h/x' }), 'not both');
  });

  it('rejects neither url nor service', () => {
    expectRejected(withRequest({ method: 'POST' }), 'needs "service" + "path" or "url"', ['steps', 1, 'request']);
  });

  it('rejects service without path and path without service', () => {
    expectRejected(withRequest({ method: 'POST', service: 'svc' }), 'needs a "path"', ['steps', 1, 'request', 'path']);
    expectRejected(withRequest({ method: 'POST', path: '/x' }), 'needs a "service"', [
      'steps',
      1,
      'request',
      'service',
    ]);
  });

  it.each(['FETCH', 'get', 'HEAD', 'OPTIONS', 1])('rejects method %j', (method) => {
    expectRejected(withRequest({ method, service: 'svc', path: '/x' }), 'invalid method', [
      'steps',
      1,
      'request',
      'method',
    ]);
  });

  it('rejects a missing method', () => {
    expectRejected(withRequest({ service: 'svc', path: '/x' }), 'invalid method', ['steps', 1, 'request', 'method']);
  });

  it('rejects a bad service name', () => {
    expectRejected(withRequest({ method: 'POST', service: 'Payments', path: '/x' }), 'service "Payments" is invalid');
  });

  it.each([
    ['charges', 'must start with "/"'],
    ['//evil.example.com/x', 'must not start with "//"'],
    ['/a b', 'must not contain whitespace'],
  ])('rejects path %j', (path, message) => {
    expectRejected(withRequest({ method: 'POST', service: 'svc', path }), message, ['steps', 1, 'request', 'path']);
  });

  it.each([
    ['ftp://h/x', 'absolute http or https URL'],
    ['/relative', 'absolute http or https URL'],
    ['http://', 'absolute http or https URL'],
    ['not a url', 'absolute http or https URL'],
    ['http://{{input.host}}/x', 'must not use templates in its host'],
    ['https://user:pw@h.example.com/x', 'must not contain credentials'],
    ['http://h/a b', 'must not contain whitespace'],
  ])('rejects url %j', (url, message) => {
    expectRejected(withRequest({ method: 'POST', url }), message, ['steps', 1, 'request', 'url']);
  });

  it('rejects a GET with a body', () => {
    expectRejected(
      withRequest({ method: 'GET', service: 'svc', path: '/x', body: {} }),
      'GET request cannot have a body',
    );
  });

  it('rejects a body that is not JSON', () => {
    expectRejected(
      withRequest({ method: 'POST', service: 'svc', path: '/x', body: { a: undefined } }),
      'body must be a JSON value',
    );
  });

  it('rejects bad, reserved and multi-line headers', () => {
    const base = { method: 'POST', service: 'svc', path: '/x' };
    expectRejected(withRequest({ ...base, headers: { 'bad name': 'v' } }), 'invalid header name "bad name"');
    expectRejected(withRequest({ ...base, headers: { 'X-Idempotency-Key': 'k' } }), 'set by the engine', [
      'steps',
      1,
      'request',
      'headers',
      'X-Idempotency-Key',
    ]);
    expectRejected(withRequest({ ...base, headers: { traceparent: 't' } }), 'set by the engine');
    // headers the HTTP client refuses to send: registered, every attempt would fail
    for (const name of ['Expect', 'upgrade', 'keep-alive'])
      expectRejected(withRequest({ ...base, headers: { [name]: '100-continue' } }), 'set by the engine');
    expectRejected(withRequest({ ...base, headers: { 'x-a': 'one\r\nx-b: two' } }), 'must not contain CR, LF or NUL');
    expectRejected(withRequest({ ...base, headers: { 'x-a': 2 } }), 'header values must be strings');
  });
});

describe('workflow definition: timeouts and retry policies', () => {
  it.each([0, 300_001, 1.5, '5000', -1])('rejects timeoutMs %j on steps and compensations', (timeoutMs) => {
    const doc = buildDefinitionDoc();
    doc.steps[0].timeoutMs = timeoutMs;
    doc.steps[0].compensation.timeoutMs = timeoutMs;
    const issues = rejectIssues(doc);
    expect(issues.map((i) => i.path)).toEqual([
      ['steps', 0, 'timeoutMs'],
      ['steps', 0, 'compensation', 'timeoutMs'],
    ]);
    expect(issues[0]?.message).toBe('timeoutMs must be an integer between 1 and 300000');
  });

  it.each([
    [{ maxAttempts: 0 }, 'retry.maxAttempts must be an integer between 1 and 100'],
    [{ maxAttempts: 101 }, 'retry.maxAttempts'],
    [{ maxAttempts: 2.5 }, 'retry.maxAttempts'],
    [{ initialIntervalMs: -1 }, 'retry.initialIntervalMs must be an integer between 0 and 3600000'],
    [{ initialIntervalMs: 3_600_001 }, 'retry.initialIntervalMs'],
    [{ backoffCoefficient: 0.5 }, 'retry.backoffCoefficient must be a number between 1 and 10'],
    [{ backoffCoefficient: 11 }, 'retry.backoffCoefficient'],
    [{ backoffCoefficient: '2' }, 'retry.backoffCoefficient'],
    [{ maxIntervalMs: 86_400_001 }, 'retry.maxIntervalMs must be an integer between 0 and 86400000'],
    [{ jitter: 'random' }, 'retry.jitter must be one of full, equal, none'],
  ])('rejects retry %j', (retry, message) => {
    const doc = buildDefinitionDoc();
    doc.steps[0].retry = retry;
    expectRejected(doc, message);
    const compensationDoc = buildDefinitionDoc();
    compensationDoc.steps[0].compensation.retry = retry;
    expectRejected(compensationDoc, message);
  });

  it('accepts the retry boundaries', () => {
    for (const retry of [
      { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0, jitter: 'none' },
      {
        maxAttempts: 100,
        initialIntervalMs: 3_600_000,
        backoffCoefficient: 10,
        maxIntervalMs: 86_400_000,
        jitter: 'equal',
      },
      { backoffCoefficient: 1.5 },
    ]) {
      expect(retryPolicyInputSchema.safeParse(retry).success, JSON.stringify(retry)).toBe(true);
    }
  });
});
