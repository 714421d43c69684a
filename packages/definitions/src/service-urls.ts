/** SAGAFLOW_SERVICE_<NAME>_URL: the base URL of a step's `"service": "<name>"` (docs/configuration.md). Read by the API and the engine. */

/** Outside production, the demo mocks of `pnpm dev` stand in for these three services. */
export const DEVELOPMENT_SERVICE_URLS: Readonly<Record<string, string>> = {
  payments: 'http://127.0.0.1:3001',
  inventory: 'http://127.0.0.1:3002',
  notifications: 'http://127.0.0.1:3003',
};

/** The variable that sets a service's base URL: `shipping-labels` → `SAGAFLOW_SERVICE_SHIPPING_LABELS_URL`. */
export function serviceUrlVariable(service: string): string {
  return `SAGAFLOW_SERVICE_${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

/**
 * SAGAFLOW_SERVICE_<NAME>_URL → { name: url } (NAME lower-cased, `_` read as `-`). With `production` false the demo
 * mocks fill in payments, inventory and notifications; in production only what is set counts.
 * @throws Error naming a variable whose value is not an absolute http(s) URL
 */
export function readServiceUrls(
  env: Record<string, string | undefined>,
  options: { production: boolean },
): Record<string, string> {
  const urls: Record<string, string> = options.production ? {} : { ...DEVELOPMENT_SERVICE_URLS };
  for (const [key, value] of Object.entries(env)) {
    const match = /^SAGAFLOW_SERVICE_([A-Z0-9_]+)_URL$/.exec(key);
    if (!match || !value) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw new Error(`${key} must be an absolute http(s) URL, got "${value}"`);
    }
    urls[match[1]!.toLowerCase().replaceAll('_', '-')] = value;
  }
  return urls;
}
