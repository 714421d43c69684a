import { EventEmitter } from 'node:events';

/**
 * A cancel signal for an attempt, in the shape undici accepts besides an AbortSignal (an EventEmitter with `aborted`
 * and `reason`, an 'abort' event). An AbortController and its AbortSignal are EventTargets: making one per attempt and
 * wiring its listeners cost ≈ 8 µs of CPU here, this ≈ 0.6 µs (docs/performance.md#an-abortcontroller-per-attempt).
 */
export class Cancel extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.emit('abort');
  }
}
