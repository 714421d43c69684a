import { expect } from 'vitest';
import { parseWorkflowDefinition, type DefinitionIssue } from '../src/index.js';

/** A definition document that tests mutate freely, often into something invalid on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseDoc = Record<string, any>;

/** A small valid definition as a plain, freely mutable document. */
export function buildDefinitionDoc(): LooseDoc {
  return {
    name: 'order-processing',
    version: '1.0.0',
    steps: [
      {
        id: 'charge-payment',
        request: { method: 'POST', service: 'payments', path: '/charges', body: { amount: '{{input.amount}}' } },
        compensation: {
          id: 'refund-payment',
          request: {
            method: 'POST',
            service: 'payments',
            path: '/refunds',
            body: { chargeId: '{{steps.charge-payment.output.chargeId}}' },
          },
        },
      },
      { id: 'reserve-inventory', request: { method: 'POST', service: 'inventory', path: '/reservations' } },
      { id: 'send-confirmation-email', request: { method: 'POST', url: 'http://127.0.0.1:3003/emails' } },
    ],
  };
}

/** A step document with the given id and request fields. */
export function buildStep(id: string, request: Record<string, unknown> = {}): LooseDoc {
  return { id, request: { method: 'POST', service: 'svc', path: `/${id}`, ...request } };
}

/** Parses a document that must be rejected and returns its issues. */
export function rejectIssues(doc: unknown): DefinitionIssue[] {
  const result = parseWorkflowDefinition(doc);
  if (result.success) throw new Error(`expected the definition to be rejected: ${JSON.stringify(doc)}`);
  return result.issues;
}

/** Asserts the document is rejected with an issue whose message contains `message` (and sits at `path`). */
export function expectRejected(doc: unknown, message: string | RegExp, path?: (string | number)[]): DefinitionIssue {
  const issues = rejectIssues(doc);
  const issue = issues.find((candidate) =>
    typeof message === 'string' ? candidate.message.includes(message) : message.test(candidate.message),
  );
  expect(issue, `no issue matching ${String(message)} in ${JSON.stringify(issues)}`).toBeDefined();
  if (path) expect(issue?.path).toEqual(path);
  return issue as DefinitionIssue;
}
