import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type { CommandSpec, Group } from './command.js';
import { COMMANDS } from './commands/index.js';
import { createContext, type CliContext, type CommonOptions } from './context.js';
import { DEFAULT_URL, readEnv, type CliEnv } from './env.js';
import { describeError, EXIT } from './errors.js';
import { createOutput } from './output.js';

const GROUPS: Record<Group, string> = {
  workflows: 'Register and inspect workflow definitions',
  runs: 'Inspect and operate runs',
  ops: 'Bulk operations: apply an action to every run a filter matches (admin)',
  schedules: 'Cron schedules that start runs (admin)',
};

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const ENVIRONMENT_HELP = `
Environment:
  SAGAFLOW_URL          the API (default ${DEFAULT_URL}); --url overrides it
  SAGAFLOW_API_KEY      sent as "authorization: Bearer <key>"; --api-key overrides it
  SAGAFLOW_ADMIN_TOKEN  sent as x-admin-token (on every request alone, on admin calls beside a key); --admin-token
                        overrides it
  NO_COLOR              no colours (they are off anyway when stdout is not a terminal)

Exit codes: 0 success, 1 the API refused (its code and message are printed) or could not be reached,
2 usage error (unknown command or flag, bad JSON in --input, a --url or SAGAFLOW_URL that is not an http(s) URL,
ops create without --yes and no answer on stdin).`;

function addCommonOptions(command: Command): void {
  command
    .optionsGroup('Common options:')
    .option('--json', 'print JSON for scripts (one document; NDJSON with --follow)')
    .option('--url <url>', `the SagaFlow API (env SAGAFLOW_URL, default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key (env SAGAFLOW_API_KEY)')
    .option('--admin-token <token>', 'admin token (env SAGAFLOW_ADMIN_TOKEN)');
}

/** A command's options merged with its parents': the value given nearest the command wins (commander's own
 * optsWithGlobals lets the program's win). */
function nearestOptions<T>(command: Command): T {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain)
    for (const [key, value] of Object.entries(c.opts())) if (value !== undefined) merged[key] = value;
  return merged as T;
}

/**
 * The commander program: groups, every command of COMMANDS with its options and the common ones, --help
 * everywhere. Commander's own exits are turned into exceptions (exitOverride) so main() chooses the exit code.
 */
function buildProgram(env: CliEnv, signal: AbortSignal, setExitCode: (code: number) => void, json: boolean): Command {
  // enablePositionalOptions: the program's own options (-V, --version) count only before the command, so
  // `start <wf> --version 1.0.0` reaches start's --version instead of printing the CLI's version; it is set before
  // any subcommand is created (they copy it)
  const program = new Command('sagaflow')
    .description('Operate SagaFlow from a terminal and from scripts')
    .enablePositionalOptions()
    .version(version, '-V, --version')
    .exitOverride()
    .addHelpText('after', ENVIRONMENT_HELP);
  // the common options are accepted before the command and between a group and its command too
  // (`sagaflow --url … runs list`, `sagaflow runs --url … list`); the one nearest the command wins (nearestOptions)
  addCommonOptions(program);
  // commander's own usage errors (unknown command or option, missing argument): with --json, the same one-line
  // JSON error on stderr as every other error; else its message and a hint
  if (json) {
    program.configureOutput({
      outputError: (message, write) => {
        write(`${JSON.stringify({ error: { code: 'USAGE', message: message.trim().replace(/^error: /, '') } })}\n`);
      },
    });
  } else program.showHelpAfterError('(add --help for usage)');
  const groups = new Map<Group, Command>();
  const parentOf = (group: Group | undefined): Command => {
    if (group === undefined) return program;
    let parent = groups.get(group);
    if (!parent) {
      parent = program.command(group).description(GROUPS[group]);
      addCommonOptions(parent);
      groups.set(group, parent);
    }
    return parent;
  };
  for (const spec of COMMANDS as ReadonlyArray<CommandSpec>) {
    const command = parentOf(spec.group).command(spec.name).description(spec.summary);
    for (const option of spec.options ?? []) command.option(option.flags, option.description, option.default);
    addCommonOptions(command);
    if (spec.examples?.length)
      command.addHelpText('after', `\nExamples:\n${spec.examples.map((line) => `  ${line}`).join('\n')}`);
    command.action(async (...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const options = nearestOptions<CommonOptions & Record<string, unknown>>(self);
      const args = self.args;
      const json = options.json === true;
      let ctx: CliContext | undefined;
      try {
        ctx = createContext(env, options, signal); // a bad --url / SAGAFLOW_URL is a UsageError here
        setExitCode((await spec.run(ctx, args, options)) ?? EXIT.ok);
      } catch (error) {
        const out = ctx?.out ?? createOutput(env.color && !json, env.columns);
        const report = describeError(error, ctx?.url ?? options.url ?? env.url);
        if (json) out.error(JSON.stringify({ error: report.body }));
        else {
          const status = report.body.status !== undefined ? ` (HTTP ${report.body.status})` : '';
          out.error(`${out.colors.red('error')}: ${report.body.code}${status}: ${report.body.message}`);
        }
        setExitCode(report.exitCode);
      }
    });
  }
  return program;
}

/** Runs the command line `argv` (process.argv shape) and resolves with the exit code. */
export async function main(
  argv: string[],
  env: CliEnv = readEnv(),
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let exitCode: number = EXIT.ok;
  const json = argv.slice(2).includes('--json');
  const program = buildProgram(
    env,
    signal,
    (code) => {
      exitCode = code;
    },
    json,
  );
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    // commander already printed its message (or the help); --help and --version are exit 0, the rest usage errors
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const report = describeError(error, env.url);
    createOutput(false).error(`error: ${report.body.code}: ${report.body.message}`);
    return report.exitCode;
  }
}
