import { setTimeout as delay } from 'node:timers/promises';
import type { JsonClient } from './http-client.js';
import { buildStartBody, START_PATH, type RunPhase } from './workload.js';

export interface SubmittedRun {
  runId: string;
  seq: number;
  sentAt: number;
  acceptedAt: number;
}

/** Starts run `seq` through the REST API; anything but 202 is an error. */
export async function submitRun(client: JsonClient, phase: RunPhase, seq: number): Promise<SubmittedRun> {
  const response = await client.post(START_PATH, buildStartBody(phase, seq));
  const runId = (response.body as { runId?: unknown } | null)?.runId;
  if (response.status !== 202 || typeof runId !== 'string') {
    throw new Error(
      `start of run ${phase}#${seq} answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`,
    );
  }
  return { runId, seq, sentAt: response.sentAt, acceptedAt: response.receivedAt };
}

/** Closed loop: `count` starts, `inFlight` at a time, each sent as soon as a previous one is answered. */
export async function submitClosedLoop(
  client: JsonClient,
  phase: RunPhase,
  count: number,
  inFlight: number,
): Promise<SubmittedRun[]> {
  const submitted: SubmittedRun[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const seq = next++;
      submitted.push(await submitRun(client, phase, seq));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return submitted.sort((a, b) => a.seq - b.seq);
}

/** Open loop: `count` starts offered at a steady `perSecond`, whatever the answers take (pacing, not waiting on them). */
export async function submitOpenLoop(
  client: JsonClient,
  phase: RunPhase,
  count: number,
  perSecond: number,
): Promise<SubmittedRun[]> {
  const intervalMs = 1000 / perSecond;
  const startedAt = performance.now();
  const pending: Promise<SubmittedRun>[] = [];
  for (let seq = 0; seq < count; seq++) {
    const due = startedAt + seq * intervalMs - performance.now();
    if (due > 0) await delay(due);
    pending.push(submitRun(client, phase, seq));
  }
  return Promise.all(pending);
}
