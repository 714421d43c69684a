import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between checks (default 50 ms). */
  intervalMs?: number;
  /** Names the awaited condition in the timeout error. */
  description?: string;
}

/**
 * Bounded poll: calls check until it returns something other than undefined/false and returns that.
 * A check that throws counts as "not yet"; its last error is quoted (and kept as `cause`) on timeout.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const what = options.description ?? 'condition';
  const detail = lastError === undefined ? '' : ` (last error: ${describeError(lastError)})`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
