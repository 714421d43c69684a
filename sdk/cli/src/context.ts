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

export function createContext(env: CliEnv, options: CommonOptions, signal: AbortSignal): CliContext {
  const url = options.url ?? env.url;
  const apiKey = options.apiKey ?? env.apiKey;
  const adminToken = options.adminToken ?? env.adminToken;
  const json = options.json === true;
  const client = createClient({
    baseUrl: url,
    ...(apiKey ? { apiKey } : {}),
    ...(adminToken ? { adminToken } : {}),
  });
  return { client, out: createOutput(env.color && !json, env.columns), json, url, signal };
}
