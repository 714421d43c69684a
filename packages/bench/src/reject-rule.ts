/**
 * Which idempotency keys the bench downstream rejects (422): a deterministic fraction of keys, the same
 * verdict on every redelivery. Shared by the downstream (deciding) and the verifier (expecting).
 */
export function isRejectedKey(key: string, permille: number): boolean {
  if (permille <= 0) return false;
  return fnv1a32(key) % 1000 < permille;
}

/** FNV-1a, 32 bit: cheap, stable across processes and Node versions. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The key the engine sends for a step's action (docs/contract.md#downstream-requests). */
export function actionKey(runId: string, stepId: string): string {
  return `${runId}:${stepId}`;
}
