import { waitFor } from './wait-for.js';

const REQUEST_TIMEOUT_MS = 1_000;

/** Polls GET url until it answers with any 2xx; connection errors and other statuses mean "not yet". */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<Response> {
  return waitFor(
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer(); // drain, so the connection is released
      if (!response.ok) throw new Error(`status ${response.status}`);
      return response;
    },
    { timeoutMs, intervalMs: 100, description: `a 2xx from GET ${url}` },
  );
}
