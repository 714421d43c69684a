import type { CliContext } from './context.js';

/** The command groups; a command without a group is top-level (`sagaflow start`). */
export type Group = 'workflows' | 'runs' | 'ops' | 'schedules';

/** One option of a command, as commander's `.option(flags, description, default)` takes it. */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string | boolean;
}

/**
 * A CLI command, declared in one small file under `commands/` and listed in `commands/index.ts`. program.ts turns
 * it into a commander command with the common flags (--url, --api-key, --admin-token, --json) and --help, and
 * calls `run` with a context (SDK client, output). `run` returns the exit code (default 0) or throws: an SDK
 * error (SagaFlowError) exits 1 with the API's code and message, a UsageError exits 2.
 */
export interface CommandSpec<Options extends object = Record<string, unknown>> {
  group?: Group;
  /** The name and its arguments, as commander's `.command()` takes them: `get <runId>`, `apply <files...>`. */
  name: string;
  summary: string;
  options?: OptionSpec[];
  /** Lines shown under "Examples:" in --help. */
  examples?: string[];
  run(ctx: CliContext, args: string[], options: Options): Promise<number | void>;
}

/** Identity, for the types: `export const runsGet = defineCommand<{ … }>({ … })`. */
export function defineCommand<Options extends object>(spec: CommandSpec<Options>): CommandSpec<Options> {
  return spec;
}
