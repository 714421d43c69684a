export interface Sample {
  at: number;
  /** the HTTP status, or 'connection' when no answer came */
  status: number | 'connection';
}

export interface HttpMonitor {
  samples(): Sample[];
  /** statuses seen in [from, to] */
  statusesBetween(from: number, to: number): Set<Sample['status']>;
  stop(): Promise<Sample[]>;
}

/**
 * Polls GET `url` every `intervalMs` in the background and records what each poll got ('connection' when no answer came
 * within `timeoutMs`).
 */
export function monitorHttp(url: () => string, intervalMs = 100, timeoutMs = 3_000): HttpMonitor {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const response = await fetch(url(), { signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        samples.push({ at, status: response.status });
      } catch {
        samples.push({ at, status: 'connection' });
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    samples: () => [...samples],
    statusesBetween: (from, to) => new Set(samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.status)),
    stop: async () => {
      stopped = true;
      await loop;
      return [...samples];
    },
  };
}
