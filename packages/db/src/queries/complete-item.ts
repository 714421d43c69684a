import {
  planCompletion,
  rowWrites,
  type AttemptRecord,
  type AttemptResult,
  type Plan,
  type RunState,
} from '@sagaflow/saga';
import { randomUUID } from 'node:crypto';
import { LeaseLostError } from '../errors.js';
import type { Db } from '../pool.js';
import { applyRowWrites } from './apply-row-writes.js';
import type { ClaimedItem } from './claim-outbox-batch.js';
import { lockLeasedRunState } from './run-state.js';

/** What a completion needs of the item it completes. */
export type CompletedItem = Pick<ClaimedItem, 'id' | 'runId' | 'stepIndex' | 'kind' | 'leaseToken'> & {
  /** the item's delivery count, for the history when it is parked */
  deliveries?: number;
};

export interface CarryOver {
  owner: string;
  leaseMs: number;
}

export interface CompletionOutcome {
  plan: Plan;
  /** the run as it was before this completion */
  before: RunState;
  /** the run as this completion left it (what the carried item, if any, plans its own completion from) */
  after: RunState;
  /** the run's next item, leased on to the caller (only with `carryOver`, when work became due now): see continueWith */
  carried?: { stepIndex: number; kind: ClaimedItem['kind']; leaseToken: string };
}

/** The writes of a completion planned from `state`; throws (IllegalTransitionError, a missing step) when it cannot be. */
export function completionWrites(
  state: RunState,
  item: CompletedItem,
  attempt: AttemptRecord | undefined,
  result: AttemptResult,
  carryOver: CarryOver | undefined,
) {
  const plan = planCompletion(state, item, attempt?.attemptNo, result);
  const writes = rowWrites(state, plan, {
    item,
    attempt,
    result,
    carry: carryOver ? { ...carryOver, leaseToken: randomUUID() } : undefined,
  });
  return { plan, writes };
}

export function completionOutcome(
  before: RunState,
  { plan, writes }: ReturnType<typeof completionWrites>,
): CompletionOutcome {
  return { plan, before, after: writes.after, ...(writes.carried ? { carried: writes.carried } : {}) };
}

/**
 * The locked path of a completion, one transaction: checks the lease is still held (fencing) and reads the run under
 * lock, plans, and applies the writes with the one statement (applyRowWrites). Throws LeaseLostError, committing
 * nothing, when another worker owns the item now. With `carryOver`, work that becomes due now stays leased to the
 * caller (new token) and is returned, so the engine goes on without a claim round trip.
 */
export async function completeItem(
  db: Db,
  item: CompletedItem,
  attempt: AttemptRecord | undefined,
  result: AttemptResult,
  options: { carryOver?: CarryOver } = {},
): Promise<CompletionOutcome> {
  return db.transaction().execute(async (trx) => {
    const state = await lockLeasedRunState(trx, item.runId, item.id, item.leaseToken);
    if (!state) throw new LeaseLostError(item.id);
    const planned = completionWrites(state, item, attempt, result, options.carryOver);
    const applied = await applyRowWrites(trx, [planned.writes]);
    if (!applied.has(item.runId)) throw new Error(`completion of outbox item ${item.id} failed its guard under lock`);
    return completionOutcome(state, planned);
  });
}
