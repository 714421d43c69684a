import type { AttemptRecord, AttemptResult } from '@sagaflow/saga';
import type { Settlement } from '../group-commit.js';
import type { Db } from '../pool.js';
import { applyRowWrites } from './apply-row-writes.js';
import type { ClaimedItem } from './claim-outbox-batch.js';
import {
  completeItem,
  completionOutcome,
  completionWrites,
  type CarryOver,
  type CompletionOutcome,
} from './complete-item.js';

export interface CompletionRequest {
  item: ClaimedItem;
  attempt: AttemptRecord | undefined;
  result: AttemptResult;
  /** keep the lease on the run's next item when it is due now (see completeItem) */
  carryOver?: CarryOver | undefined;
}

export type CompletionSettlement = Settlement<CompletionOutcome>;

type Planned = ReturnType<typeof completionWrites>;

/** Plans an item from the state it holds; undefined when that state is stale or the plan is refused (locked path). */
function planFromHeldState(request: CompletionRequest): Planned | undefined {
  const { item, attempt, result, carryOver } = request;
  if (item.stateStale) return undefined;
  try {
    return completionWrites(item.state, item, attempt, result, carryOver);
  } catch {
    return undefined;
  }
}

async function settleLocked(db: Db, request: CompletionRequest): Promise<CompletionSettlement> {
  try {
    const options = request.carryOver ? { carryOver: request.carryOver } : {};
    return { ok: true, value: await completeItem(db, request.item, request.attempt, request.result, options) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Completes several items (of different runs) at once — group commit. Each is planned from the state its holder has
 * and all are written by one statement (applyRowWrites), each guarded on its own: lease, run status and cancel flag
 * unchanged. The ones whose guard failed (lease lost, cancel requested meanwhile) or whose held state could not be
 * trusted go through completeItem, each in its own transaction, which re-reads the run under lock and applies the
 * same writer, or reports LeaseLostError. Settlements come back in request order. A database error of the batched
 * statement rejects the whole call (nothing of it committed).
 */
export async function completeItems(db: Db, requests: readonly CompletionRequest[]): Promise<CompletionSettlement[]> {
  const runIds = new Set(requests.map((r) => r.item.runId));
  if (runIds.size !== requests.length) throw new Error('completeItems: one item per run per batch');
  const planned = requests.map(planFromHeldState);
  const fast = planned.flatMap((p) => (p ? [p.writes] : []));
  const passed = await applyRowWrites(db, fast);
  const settlements: CompletionSettlement[] = [];
  for (const [i, request] of requests.entries()) {
    const p = planned[i];
    if (p && passed.has(request.item.runId))
      settlements.push({ ok: true, value: completionOutcome(request.item.state, p) });
    else settlements.push(await settleLocked(db, request));
  }
  return settlements;
}
