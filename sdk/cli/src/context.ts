import { createClient, type SagaFlowClient } from '@sagaflow/client';
import type { CliEnv } from './env.js';
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
 * Adds `authorization: Bearer <key>` to every request (SPEC §14), including the SSE stream of `runs.watch`, which
 * uses the client's fetch. TODO(wt-auth): use `createClient({ apiKey })` once the SDK has it.
 */
function bearerFetch(apiKey: string): typeof globalThis.fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${apiKey}`);
    return globalThis.fetch(input, { ...init, headers });
  };
}

export function createContext(env: CliEnv, options: CommonOptions, signal: AbortSignal): CliContext {
  const url = options.url ?? env.url;
  const apiKey = options.apiKey ?? env.apiKey;
  const adminToken = options.adminToken ?? env.adminToken;
  const json = options.json === true;
  const client = createClient({
    baseUrl: url,
    ...(adminToken ? { adminToken } : {}),
    ...(apiKey ? { fetch: bearerFetch(apiKey) } : {}),
  });
  return { client, out: createOutput(env.color && !json), json, url, signal };
}
