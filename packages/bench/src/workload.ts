import type { WorkflowDefinition } from '@sagaflow/definitions';

/** The benchmark's workflow: charge → reserve → notify, compensations refund and release (issue "Performance"). */
export const BENCH_WORKFLOW = { name: 'bench-saga', version: '1.0.0' } as const;

export const START_PATH = `/v1/workflows/${BENCH_WORKFLOW.name}/start`;

/** Default envelope bodies (no `body`), default retry policy (no `retry`), absolute URLs to the downstream. */
export function buildBenchDefinition(downstreamUrl: string): WorkflowDefinition {
  const url = (path: string): string => `${downstreamUrl.replace(/\/+$/, '')}${path}`;
  return {
    name: BENCH_WORKFLOW.name,
    version: BENCH_WORKFLOW.version,
    description: 'pnpm bench workload',
    steps: [
      {
        id: 'charge',
        request: { method: 'POST', url: url('/charge') },
        compensation: { id: 'refund', request: { method: 'POST', url: url('/refund') } },
      },
      {
        id: 'reserve',
        request: { method: 'POST', url: url('/reserve') },
        compensation: { id: 'release', request: { method: 'POST', url: url('/release') } },
      },
      { id: 'notify', request: { method: 'POST', url: url('/notify') } },
    ],
  };
}

export type RunPhase = 'warmup' | 'measure';

/** The start body of run `seq`: a small order-like input, tagged with its phase so the bench can tell its runs apart. */
export function buildStartBody(phase: RunPhase, seq: number): { input: Record<string, unknown> } {
  return {
    input: { phase, seq, orderId: `bench-${phase}-${seq}`, amount: 1999, currency: 'EUR', customerId: `c-${seq % 97}` },
  };
}
