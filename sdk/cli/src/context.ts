import { createClient, type SagaFlowClient } from '@sagaflow/client';
import type { CliEnv } from './env.js';
import { UsageError } from './errors.js';
import { createOutput, type Output } from './output.js';

/** The flags every command takes (see addCommonOptions). */
export interface CommonOptions {
  url?: string;
  apiKey?: string;
  adminToken?: string;
  json?: boolean;
}

/** What a command runs with: the SDK client, where to print, and whether to print JSON. */
export interface CliContext {
  readonly client: SagaFlowClient;
  readonly out: Output;
  readonly json: boolean;
  /** The API's base URL, for messages. */
  readonly url: string;
  /** Aborted on Ctrl-C: long-running commands (`--follow`, `--wait`) stop and return. */
  readonly signal: AbortSignal;
}

/**
 * The API's base URL if it is an http: or https: URL; anything else (`notaurl`, `localhost:3000`, `ftp://…`) is a
 * usage error (exit 2) naming it and where it came from, before any request.
 */
export function checkApiUrl(url: string, source: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new UsageError(`${source}: not an http:// or https:// URL: ${JSON.stringify(url)}`);
  return url;
}

/**
 * A fetch that adds `x-admin-token` to every request. The SDK sends the admin token on admin calls only, but the API
 * takes it as an admin credential on every /v1 endpoint (SPEC §14): with SAGAFLOW_API_KEYS set on the API and only
 * SAGAFLOW_ADMIN_TOKEN configured here, `runs list` (or the event stream) would otherwise be a 401.
 */
function fetchWithAdminToken(adminToken: string): typeof globalThis.fetch {
  return (input, init) => {
    const request = new Request(input, init);
    request.headers.set('x-admin-token', adminToken);
    return globalThis.fetch(request);
  };
}

export function createContext(env: CliEnv, options: CommonOptions, signal: AbortSignal): CliContext {
  const url = checkApiUrl(options.url ?? env.url, options.url !== undefined ? '--url' : 'SAGAFLOW_URL');
  const apiKey = options.apiKey ?? env.apiKey;
  const adminToken = options.adminToken ?? env.adminToken;
  const json = options.json === true;
  const client = createClient({
    baseUrl: url,
    ...(apiKey ? { apiKey } : {}),
    ...(adminToken ? { adminToken, fetch: fetchWithAdminToken(adminToken) } : {}),
  });
  return { client, out: createOutput(env.color && !json, env.columns), json, url, signal };
}
