import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from '../src/index.js';
import { buildStep, expectRejected, type LooseDoc } from './definition-fixture.js';

const doc = (...steps: LooseDoc[]): LooseDoc => ({ name: 'waits', version: '1.0.0', steps });

function accepted(d: LooseDoc) {
  const result = parseWorkflowDefinition(d);
  expect(result.success, JSON.stringify(result.success ? null : result.issues)).toBe(true);
  return result.success ? result.data : undefined;
}

describe('sleep steps', () => {
  it('accepts a duration (0 too) and an until template or ISO time, and keeps the step as written', () => {
    const data = accepted(
      doc(
        buildStep('a'),
        { id: 'cool-off', sleep: { durationMs: 60000 } },
        { id: 'now', sleep: { durationMs: 0 } },
        { id: 'ship', sleep: { until: '{{input.shipAt}}' } },
        { id: 'after-a', sleep: { until: '{{steps.a.output.at}}' } },
        { id: 'fixed', sleep: { until: '2027-01-31T09:00:00Z' } },
      ),
    );
    expect(data?.steps[1]).toEqual({ id: 'cool-off', sleep: { durationMs: 60000 } });
  });

  it('rejects both and neither of durationMs and until', () => {
    const both = expectRejected(
      doc({ id: 's', sleep: { durationMs: 1, until: '{{input.at}}' } }),
      'sleep of step "s" needs exactly one of "durationMs" and "until"',
      ['steps', 0, 'sleep'],
    );
    expect(both.code).toBe('sleep_duration_or_until');
    expectRejected(doc({ id: 's', sleep: {} }), 'needs exactly one of "durationMs" and "until"');
  });

  it('rejects a negative or fractional duration', () => {
    expectRejected(doc({ id: 's', sleep: { durationMs: -1 } }), 'sleep.durationMs must be an integer ≥ 0');
    expectRejected(doc({ id: 's', sleep: { durationMs: 1.5 } }), 'sleep.durationMs must be an integer ≥ 0');
  });

  it('rejects an until template with an unknown root, an unknown or later step, and text that is no time', () => {
    const root = expectRejected(doc({ id: 's', sleep: { until: '{{env.WAKE_AT}}' } }), 'unknown template root "env"', [
      'steps',
      0,
      'sleep',
      'until',
    ]);
    expect(root.code).toBe('unknown_template_root');
    expectRejected(doc({ id: 's', sleep: { until: '{{steps.nope.output.at}}' } }), 'unknown step "nope"');
    expectRejected(
      doc({ id: 's', sleep: { until: '{{steps.b.output.at}}' } }, buildStep('b')),
      'references step "b" which does not run before it',
    );
    const text = expectRejected(doc({ id: 's', sleep: { until: 'tomorrow' } }), 'neither an ISO 8601 time');
    expect(text.code).toBe('invalid_until');
  });
});

describe('waitForSignal steps', () => {
  it('accepts a name alone, and timeoutMs 1 ms – 1 year with onTimeout fail | continue', () => {
    accepted(doc({ id: 'w', waitForSignal: { name: 'approval' } }));
    accepted(doc({ id: 'w', waitForSignal: { name: 'approval', timeoutMs: 1, onTimeout: 'continue' } }));
    accepted(doc({ id: 'w', waitForSignal: { name: 'approval', timeoutMs: 31_536_000_000, onTimeout: 'fail' } }));
  });

  it('rejects a name outside the id charset', () => {
    const issue = expectRejected(
      doc({ id: 'w', waitForSignal: { name: 'Approval!' } }),
      'waitForSignal.name "Approval!" is invalid',
      ['steps', 0, 'waitForSignal', 'name'],
    );
    expect(issue.message).toContain('lowercase letters, digits and "-"');
    expectRejected(doc({ id: 'w', waitForSignal: {} }), 'waitForSignal.name must be a string');
  });

  it('rejects a timeout out of range and an unknown onTimeout', () => {
    const between = 'waitForSignal.timeoutMs must be an integer between 1 and 31536000000';
    expectRejected(doc({ id: 'w', waitForSignal: { name: 'a', timeoutMs: 0 } }), between);
    expectRejected(doc({ id: 'w', waitForSignal: { name: 'a', timeoutMs: 31_536_000_001 } }), between);
    expectRejected(
      doc({ id: 'w', waitForSignal: { name: 'a', onTimeout: 'retry' } }),
      'waitForSignal.onTimeout must be one of fail, continue',
    );
  });
});

describe('step kinds', () => {
  it.each([
    ['request', { method: 'POST', service: 'svc', path: '/x' }],
    ['compensation', { id: 'undo', request: { method: 'POST', service: 'svc', path: '/u' } }],
    ['retry', { maxAttempts: 2 }],
    ['timeoutMs', 1000],
  ])('rejects %s on a sleep and on a waitForSignal step', (field, value) => {
    const message =
      field === 'request' ? 'a step is exactly one of request, sleep or waitForSignal' : `has no "${field}"`;
    const sleep = expectRejected(doc({ id: 's', sleep: { durationMs: 1 }, [field]: value }), message);
    expect(sleep.path).toEqual(['steps', 0, field === 'request' ? 'sleep' : field]);
    expectRejected(doc({ id: 'w', waitForSignal: { name: 'a' }, [field]: value }), message);
  });

  it('rejects a step with no kind and one with sleep and waitForSignal', () => {
    const none = expectRejected(doc({ id: 'x' }), 'step "x" needs one of "request", "sleep" or "waitForSignal"');
    expect(none.code).toBe('missing_step_kind');
    const two = expectRejected(
      doc({ id: 'x', sleep: { durationMs: 1 }, waitForSignal: { name: 'a' } }),
      'step "x" has "sleep" and "waitForSignal"',
    );
    expect(two.code).toBe('conflicting_step_kinds');
  });

  it('lets later steps template a signal step output', () => {
    accepted(
      doc(
        { id: 'await-approval', waitForSignal: { name: 'approval' } },
        buildStep('pay', { body: { approved: '{{steps.await-approval.output.approved}}' } }),
      ),
    );
  });
});
