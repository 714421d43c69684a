import type { EffectRecord, RequestRecord } from '../invariants/types.js';
import type { FakeDownstream } from '@sagaflow/testkit';

/** The downstream's log and effects in the shape the invariant checker reads. */
export function readEvidence(downstream: FakeDownstream): {
  requests: RequestRecord[];
  effects: Map<string, EffectRecord>;
} {
  return { requests: downstream.requests(), effects: downstream.effects() };
}
