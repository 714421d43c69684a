import { parseAllowedHosts, TemplateError, type StepRequest } from '@sagaflow/definitions';
import { describe, expect, it } from 'vitest';
import { buildAttemptRequest, RequestConfigError, type AttemptIdentity } from '../../src/build-request.js';

const RUN_ID = '0b6f7c1e-4a43-4c1e-9d6a-1f2e3d4c5b6a';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function identity(overrides: Partial<AttemptIdentity> = {}): AttemptIdentity {
  return {
    runId: RUN_ID,
    workflowName: 'order-processing',
    workflowVersion: '1.0.0',
    stepId: 'reserve',
    kind: 'action',
    attemptNo: 2,
    correlationId: 'corr-1',
    traceParent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    input: { orderId: 'o-1', amount: 42 },
    context: { tenant: 't1' },
    outputs: { charge: { chargeId: 'ch_1' } },
    ...overrides,
  };
}

const services = { serviceUrls: { payments: 'http://127.0.0.1:4010/', inventory: 'http://inventory.local:4020/base' } };

describe('buildAttemptRequest: headers (docs/contract.md#downstream-requests)', () => {
  it('sends the idempotency key, correlation, run, step, attempt and trace headers', () => {
    const req = buildAttemptRequest({ method: 'POST', service: 'payments', path: '/charges' }, identity(), services);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('http://127.0.0.1:4010/charges');
    expect(req.headers).toMatchObject({
      'x-idempotency-key': `${RUN_ID}:reserve`,
      'x-correlation-id': 'corr-1',
      'x-sagaflow-run-id': RUN_ID,
      'x-sagaflow-step-id': 'reserve',
      'x-sagaflow-attempt': '2',
      'content-type': 'application/json',
    });
    // the run's trace id, a fresh span id
    expect(req.headers['traceparent']).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(req.headers['traceparent']).not.toContain('00f067aa0ba902b7');
  });

  it('a compensation uses the <runId>:<stepId>:compensate key', () => {
    const req = buildAttemptRequest(
      { method: 'POST', service: 'payments', path: '/refunds' },
      identity({ kind: 'compensation', compensationId: 'refund' }),
      services,
    );
    expect(req.headers['x-idempotency-key']).toBe(`${RUN_ID}:reserve:compensate`);
  });

  it('a run stored without a trace context: its id is the trace id of every attempt', () => {
    const send = () =>
      buildAttemptRequest({ method: 'GET', url: 'http://127.0.0.1:1/x' }, identity({ traceParent: null }), services)
        .headers['traceparent'];
    const [first, second] = [send(), send()];
    const runTraceId = RUN_ID.replaceAll('-', '');
    expect(first).toMatch(new RegExp(`^00-${runTraceId}-[0-9a-f]{16}-01$`));
    expect(second).toMatch(new RegExp(`^00-${runTraceId}-[0-9a-f]{16}-01$`));
    expect(first).not.toBe(second);
  });

  it('renders definition headers (lower-cased), JSON-encoding non-string values', () => {
    const req = buildAttemptRequest(
      {
        method: 'GET',
        url: 'http://127.0.0.1:1/x',
        headers: { 'X-Order': '{{input.orderId}}', 'X-Amount': '{{input.amount}}', 'X-Api-Version': '2' },
      },
      identity(),
      services,
    );
    expect(req.headers).toMatchObject({ 'x-order': 'o-1', 'x-amount': '42', 'x-api-version': '2' });
  });
});

describe('buildAttemptRequest: bodies', () => {
  it('POST without a body sends the envelope with the outputs so far', () => {
    const req = buildAttemptRequest({ method: 'POST', service: 'payments', path: '/charges' }, identity(), services);
    expect(JSON.parse(req.body!)).toEqual({
      runId: RUN_ID,
      workflowName: 'order-processing',
      workflowVersion: '1.0.0',
      stepId: 'reserve',
      kind: 'action',
      attempt: 2,
      input: { orderId: 'o-1', amount: 42 },
      context: { tenant: 't1' },
      steps: { charge: { output: { chargeId: 'ch_1' } } },
    });
  });

  it('a compensation envelope names the compensation', () => {
    const req = buildAttemptRequest(
      { method: 'PUT', url: 'http://127.0.0.1:1/undo' },
      identity({ kind: 'compensation', compensationId: 'release' }),
      services,
    );
    expect(JSON.parse(req.body!)).toMatchObject({ kind: 'compensation', compensationId: 'release', stepId: 'reserve' });
  });

  it('a body template is rendered: whole templates keep their JSON type, embedded ones become text', () => {
    const request: StepRequest = {
      method: 'PATCH',
      url: 'http://127.0.0.1:1/x',
      body: {
        amount: '{{input.amount}}',
        note: 'order {{input.orderId}} of {{run.workflowName}}',
        charge: '{{steps.charge.output.chargeId}}',
        ctx: '{{context}}',
      },
    };
    const req = buildAttemptRequest(request, identity(), services);
    expect(JSON.parse(req.body!)).toEqual({
      amount: 42,
      note: 'order o-1 of order-processing',
      charge: 'ch_1',
      ctx: { tenant: 't1' },
    });
    expect(req.headers['content-type']).toBe('application/json');
  });

  it.each(['GET', 'DELETE'] as const)('%s sends no body and no content-type', (method) => {
    const req = buildAttemptRequest(
      { method, service: 'inventory', path: '/items/{{input.orderId}}' },
      identity(),
      services,
    );
    expect(req.body).toBeUndefined();
    expect(req.headers['content-type']).toBeUndefined();
    expect(req.url).toBe('http://inventory.local:4020/base/items/o-1');
  });

  it('template values in a service path and query are percent-encoded', () => {
    const req = buildAttemptRequest(
      { method: 'GET', service: 'inventory', path: '/items/{{input.orderId}}?tenant={{context.tenant}}' },
      identity({ input: { orderId: '../admin?x=' }, context: { tenant: 'a&b=c' } }),
      services,
    );
    expect(req.url).toBe('http://inventory.local:4020/base/items/..%2Fadmin%3Fx%3D?tenant=a%26b%3Dc');
  });

  it('a header value that renders CR/LF or a character outside Latin-1 is a TemplateError naming the header', () => {
    for (const tenant of ['a\r\nx-evil: 1', 'snow \u2603']) {
      expect(() =>
        buildAttemptRequest(
          { method: 'GET', url: 'http://127.0.0.1:1/x', headers: { 'x-tenant': '{{input.tenant}}' } },
          identity({ input: { tenant } }),
          services,
        ),
      ).toThrow(expect.objectContaining({ code: 'TEMPLATE_ERROR', message: expect.stringContaining('x-tenant') }));
    }
  });

  it('a template path missing at run time is a TemplateError naming the path', () => {
    const run = () =>
      buildAttemptRequest(
        { method: 'POST', url: 'http://127.0.0.1:1/x', body: { x: '{{input.missing.deep}}' } },
        identity(),
        services,
      );
    expect(run).toThrow(TemplateError);
    expect(run).toThrow(/input\.missing\.deep/);
  });
});

describe('buildAttemptRequest: targets', () => {
  it('an unknown service is a RequestConfigError naming the variable to set', () => {
    const run = () =>
      buildAttemptRequest({ method: 'POST', service: 'shipping-labels', path: '/x' }, identity(), services);
    expect(run).toThrow(RequestConfigError);
    expect(run).toThrow(/SAGAFLOW_SERVICE_SHIPPING_LABELS_URL/);
  });

  it('SAGAFLOW_ALLOWED_HOSTS refuses any other host, for urls and services alike', () => {
    const allowed = { ...services, allowedHosts: parseAllowedHosts('127.0.0.1') };
    expect(() => buildAttemptRequest({ method: 'GET', url: 'http://evil.example:80/x' }, identity(), allowed)).toThrow(
      RequestConfigError,
    );
    expect(() => buildAttemptRequest({ method: 'GET', service: 'inventory', path: '/x' }, identity(), allowed)).toThrow(
      /inventory\.local.*SAGAFLOW_ALLOWED_HOSTS/,
    );
    expect(buildAttemptRequest({ method: 'GET', service: 'payments', path: '/x' }, identity(), allowed).url).toBe(
      'http://127.0.0.1:4010/x',
    );
  });

  it('compares allowed hosts case-insensitively', () => {
    const req = buildAttemptRequest({ method: 'GET', url: 'http://Inventory.Local:4020/x' }, identity(), {
      ...services,
      allowedHosts: parseAllowedHosts('inventory.local'),
    });
    expect(req.url).toBe('http://inventory.local:4020/x');
  });

  it('a host:port entry allows that port only', () => {
    const allowed = { ...services, allowedHosts: parseAllowedHosts('127.0.0.1:4010') };
    expect(buildAttemptRequest({ method: 'GET', url: 'http://127.0.0.1:4010/x' }, identity(), allowed).url).toBe(
      'http://127.0.0.1:4010/x',
    );
    expect(() => buildAttemptRequest({ method: 'GET', url: 'http://127.0.0.1:4011/x' }, identity(), allowed)).toThrow(
      'host "127.0.0.1:4011" is not in SAGAFLOW_ALLOWED_HOSTS',
    );
  });

  it('a link-local or metadata address is refused even without SAGAFLOW_ALLOWED_HOSTS', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]:8080/',
    ]) {
      expect(() => buildAttemptRequest({ method: 'GET', url }, identity(), services), url).toThrow(
        /link-local or cloud metadata/,
      );
    }
  });

  it('RequestConfigError fails the step permanently (code STEP_FAILED)', () => {
    expect(new RequestConfigError('x').code).toBe('STEP_FAILED');
  });
});
