/** An ISO 8601 date-time with a time zone (Z or ±hh:mm), or a date alone (midnight UTC). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** True when `text` is an ISO 8601 time a sleep's `until` may name (docs/contract.md#durable-waits). */
export function isIsoTime(text: string): boolean {
  return ISO_TIME.test(text) && !Number.isNaN(Date.parse(text));
}

/** The time `text` names, or undefined when it is not an ISO 8601 time. */
export function parseIsoTime(text: string): Date | undefined {
  return isIsoTime(text) ? new Date(Date.parse(text)) : undefined;
}
