import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DEFINITIONS_DIR, loadDemoDefinitions, parseWorkflowDefinition } from '../src/index.js';

function summarize(def: ReturnType<typeof loadDemoDefinitions>[number]) {
  return {
    id: `${def.name}@${def.version}`,
    steps: def.steps.map((step) =>
      step.request
        ? [step.id, step.request.service, step.request.path, step.compensation?.id ?? null]
        : [step.id, step.waitForSignal ? `signal:${step.waitForSignal.name}` : 'sleep', null, null],
    ),
  };
}

describe('demo definitions', () => {
  it('lives in packages/definitions/workflows', () => {
    expect(DEMO_DEFINITIONS_DIR).toMatch(/packages\/definitions\/workflows\/?$/);
    expect(existsSync(DEMO_DEFINITIONS_DIR)).toBe(true);
  });

  it('loads the demos of docs/contract.md#definitions with their steps and compensations', () => {
    expect(loadDemoDefinitions().map(summarize)).toEqual([
      {
        id: 'invoice-issuance@1.0.0',
        steps: [
          ['create-invoice', 'payments', '/invoices', 'void-invoice'],
          ['emit-fiscal-doc', 'payments', '/invoices/fiscal', null],
          ['archive', 'payments', '/invoices/archive', null],
        ],
      },
      {
        id: 'order-processing@1.0.0',
        steps: [
          ['charge-payment', 'payments', '/charges', 'refund-payment'],
          ['reserve-inventory', 'inventory', '/reservations', 'release-inventory'],
          ['send-confirmation-email', 'notifications', '/emails', null],
        ],
      },
      {
        id: 'refund-flow@1.1.0',
        steps: [
          ['validate-refund', 'payments', '/refunds/validate', null],
          ['await-approval', 'signal:approval', null, null],
          ['refund-payment', 'payments', '/refunds', null],
          ['notify-customer', 'notifications', '/emails', null],
        ],
      },
      {
        id: 'refund-flow@1.0.0',
        steps: [
          ['validate-refund', 'payments', '/refunds/validate', null],
          ['refund-payment', 'payments', '/refunds', null],
          ['notify-customer', 'notifications', '/emails', null],
        ],
      },
    ]);
  });

  it('sends the envelope: POST, service + path, no body, 5000 ms timeouts', () => {
    for (const def of loadDemoDefinitions()) {
      expect(def.description).toBeTruthy();
      for (const step of def.steps) {
        if (!step.request) continue; // refund-flow@1.1.0 waits for its approval signal
        for (const target of [step, ...(step.compensation ? [step.compensation] : [])]) {
          expect(target.request.method).toBe('POST');
          expect(target.request.body).toBeUndefined();
          expect(target.request.url).toBeUndefined();
          expect(target.timeoutMs).toBe(5000);
        }
        expect(step.compensation?.retry).toBeUndefined();
      }
    }
  });

  it('gives only order-processing steps the quick retry policy', () => {
    for (const def of loadDemoDefinitions()) {
      const expected = def.name === 'order-processing' ? { maxAttempts: 5, initialIntervalMs: 100 } : undefined;
      for (const step of def.steps) expect(step.retry).toEqual(expected);
    }
  });

  it('parses every file directly too', () => {
    const files = readdirSync(DEMO_DEFINITIONS_DIR).filter((file) => file.endsWith('.json'));
    expect(files).toHaveLength(4);
    for (const file of files) {
      const doc: unknown = JSON.parse(readFileSync(join(DEMO_DEFINITIONS_DIR, file), 'utf8'));
      expect(parseWorkflowDefinition(doc).success, file).toBe(true);
    }
  });
});
