/** How an attempt ended, as docs/contract.md#attempt-outcomes classifies it. Pure. */
export type AttemptClass = 'success' | 'retryable' | 'permanent';

/**
 * `refused`: the destination policy refused the resolved address before connecting (docs/contract.md#security).
 * `no-final-response`: the downstream sent an informational (1xx) status and then nothing else (undici refuses
 * 100 and 101 outright when it did not ask for them); `informational` is the status when it is known.
 */
export type AttemptEnd =
  | { type: 'response'; status: number }
  | { type: 'no-final-response'; informational?: number }
  | { type: 'timeout' }
  | { type: 'connection-error' }
  | { type: 'refused' };

const RETRYABLE_STATUSES = new Set([408, 425, 429]);

/** A status outside 200–599 (undici passes on 600–999) is a permanent failure, like one with no final answer. */
export function classifyResponse(end: AttemptEnd): AttemptClass {
  if (end.type === 'no-final-response' || end.type === 'refused') return 'permanent';
  if (end.type !== 'response') return 'retryable';
  if (end.status >= 200 && end.status < 300) return 'success';
  if (RETRYABLE_STATUSES.has(end.status) || (end.status >= 500 && end.status <= 599)) return 'retryable';
  return 'permanent';
}

/** The status an attempt row can record (step_attempts.http_status is 100–599); null for anything else. */
export function recordableStatus(end: AttemptEnd): number | null {
  return end.type === 'response' && end.status >= 100 && end.status <= 599 ? end.status : null;
}

/** A Retry-After header (delta seconds or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1000;
  // every HTTP-date form starts with a day name; Date.parse alone would read "-1" or "1.5" as dates
  if (!/^\s*[A-Za-z]{3}/.test(raw)) return undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
