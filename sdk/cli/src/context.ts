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

export function createContext(env: CliEnv, options: CommonOptions, signal: AbortSignal): CliContext {
  const url = checkApiUrl(options.url ?? env.url, options.url !== undefined ? '--url' : 'SAGAFLOW_URL');
  const apiKey = options.apiKey ?? env.apiKey;
  const adminToken = options.adminToken ?? env.adminToken;
  const json = options.json === true;
  const client = createClient({
    baseUrl: url,
    ...(apiKey ? { apiKey } : {}),
    // the SDK sends a lone admin token on every call (an admin credential on every /v1 endpoint, SPEC §14), and
    // beside a key only on admin calls (the key stays the identity of the rest)
    ...(adminToken ? { adminToken } : {}),
  });
  return { client, out: createOutput(env.color && !json, env.columns), json, url, signal };
}
