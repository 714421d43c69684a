import { setTimeout as delay } from 'node:timers/promises';

/**
 * Load generation: calls `start(i)` for i in [0, count) at a steady `perSecond` rate (not awaiting each call
 * before the next is due), and resolves with every result in order once all have settled.
 */
export async function startPaced<T>(count: number, perSecond: number, start: (i: number) => Promise<T>): Promise<T[]> {
  const began = Date.now();
  const pending: Array<Promise<T>> = [];
  for (let i = 0; i < count; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await delay(wait);
    pending.push(start(i));
  }
  return Promise.all(pending);
}
