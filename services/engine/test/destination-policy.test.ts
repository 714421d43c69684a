import type { ClaimedItem } from '@sagaflow/db';
import { parseAllowedHosts, type StepDefinition } from '@sagaflow/definitions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyResponse } from '../src/classify-response.js';
import { createDownstreamAgent } from '../src/downstream-agent.js';
import { runAttempt } from '../src/run-attempt.js';
import { sendAttempt } from '../src/send-attempt.js';
import { startFakeDownstream, type FakeDownstream } from '@sagaflow/testkit';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/**
 * docs/contract.md#security outbound address policy over loopback: SAGAFLOW_ALLOWED_HOSTS with ports, literal link-local/metadata
 * addresses, and the connect-time check of the addresses a name resolves to. A refusal is permanent: no retry, no
 * request.
 */

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
/** stands in for a name resolving to 169.254.169.254: loopback is all a test machine can resolve */
const refuseLoopback = (address: string) => (LOOPBACK.has(address) ? `address ${address} refused` : undefined);

describe('connect time: the addresses a name resolves to', () => {
  let downstream: FakeDownstream;
  beforeAll(async () => {
    downstream = await startFakeDownstream();
  });
  afterAll(async () => {
    await downstream?.close();
  });

  const port = () => new URL(downstream.url).port;
  const get = (url: string) => ({
    method: 'GET',
    url,
    displayUrl: url,
    headers: { 'x-sagaflow-run-id': 'connect-test' },
    body: undefined,
  });

  it('a resolved address the policy refuses ends the attempt as refused (permanent) before connecting', async () => {
    const agent = createDownstreamAgent({ connectionsPerOrigin: 1, checkAddress: refuseLoopback });
    try {
      const response = await sendAttempt(agent, get(`http://localhost:${port()}/refused`), 2_000);
      expect(response.end).toEqual({ type: 'refused' });
      expect(response.errorMessage).toContain('localhost: address');
      expect(classifyResponse(response.end)).toBe('permanent');
      expect(downstream.requests({ path: '/refused' })).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('with the default policy, a name resolving to loopback connects (the lookup is on the real path)', async () => {
    const agent = createDownstreamAgent({ connectionsPerOrigin: 1, allowedHosts: parseAllowedHosts('localhost') });
    try {
      const response = await sendAttempt(agent, get(`http://localhost:${port()}/allowed`), 2_000);
      expect(response.end).toEqual({ type: 'response', status: 200 });
      expect(downstream.requests({ path: '/allowed' })).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('runAttempt records a refused destination as a permanent failure, with retries left', async () => {
    const agent = createDownstreamAgent({ connectionsPerOrigin: 1, checkAddress: refuseLoopback });
    const step: StepDefinition = {
      id: 'a',
      request: { method: 'GET', url: `http://localhost:${port()}/run-attempt` },
      retry: { maxAttempts: 5 },
    };
    try {
      const outcome = await runAttempt(claimedItem(), step, agent, { serviceUrls: {}, maxDeliveries: 5 });
      expect(outcome.result).toMatchObject({
        outcome: 'FAILED',
        error: {
          code: 'STEP_FAILED',
          lastErrorCode: 'DESTINATION_REFUSED',
          message: expect.stringContaining('refused'),
        },
      });
      expect(outcome.attempt).toMatchObject({ outcome: 'FAILED', httpStatus: null });
      expect(downstream.requests({ path: '/run-attempt' })).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});

describe('the engine: SAGAFLOW_ALLOWED_HOSTS with ports, and metadata addresses', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await createEngineHarness({ engine: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a host:port entry allows that port only; another port, or a metadata address, fails the step once', async () => {
    const downstreamPort = new URL(h.downstream.url).port;
    await h.startEngine({ allowedHosts: parseAllowedHosts(`127.0.0.1:${downstreamPort}`) });
    const saga = await h.defineSaga(
      'ports',
      [
        { id: 'a', compensation: true },
        { id: 'b', request: { url: `http://127.0.0.1:${Number(downstreamPort) + 1}/ports/b` } },
      ],
      { retry: { maxAttempts: 5, initialIntervalMs: 10, jitter: 'none' } },
    );
    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({
      code: 'STEP_FAILED',
      stepId: 'b',
      message: `host "127.0.0.1:${Number(downstreamPort) + 1}" is not in SAGAFLOW_ALLOWED_HOSTS`,
    });
    expect(view.steps[1]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual(['/ports/a', '/ports/a/undo']);
    await h.stopEngine();
  });

  it('without SAGAFLOW_ALLOWED_HOSTS, 169.254.169.254 is refused permanently', async () => {
    await h.startEngine();
    const saga = await h.defineSaga('metadata', [
      { id: 'a', request: { url: 'http://169.254.169.254/latest/meta-data' } },
    ]);
    const view = await h.waitTerminal(await saga.start());
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', message: expect.stringContaining('cloud metadata') });
    expect(view.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    await h.stopEngine();
  });
});

function claimedItem(): ClaimedItem {
  return {
    id: '1',
    runId: '0b6f7c1e-4a43-4c1e-9d6a-1f2e3d4c5b6a',
    stepIndex: 0,
    kind: 'action',
    leaseToken: 't',
    started: false,
    deliveries: 1,
    stepId: 'a',
    attemptsMade: 0,
    attemptsBeforeRetry: 0,
    run: {
      workflowName: 'w',
      workflowVersion: '1.0.0',
      input: {},
      context: {},
      correlationId: 'c',
      traceParent: null,
      traceState: null,
    },
    outputs: {},
    state: {
      runId: '0b6f7c1e-4a43-4c1e-9d6a-1f2e3d4c5b6a',
      status: 'RUNNING',
      error: null,
      workflowName: 'w',
      correlationId: 'c',
      createdAt: new Date(0),
      cancelRequested: false,
      paused: false,
      workflowPaused: false,
      eventSeq: 2,
      steps: [
        {
          index: 0,
          stepId: 'a',
          status: 'RUNNING',
          compensationStatus: 'NONE',
          error: null,
          attempts: 0,
          attemptsBeforeRetry: 0,
          compensationAttempts: 0,
          compensationAttemptsBeforeRetry: 0,
          wait: null,
        },
      ],
    },
    stateStale: false,
    payloadBytes: 2048,
  };
}
