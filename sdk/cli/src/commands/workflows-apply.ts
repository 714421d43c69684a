import { SagaFlowError, type WorkflowDefinition } from '@sagaflow/client';
import { createTwoFilesPatch } from 'diff';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { parseJson, readText } from '../input.js';
import { renderTable, type Colors } from '../output.js';

interface Applied {
  file: string;
  name: string;
  version: string;
  /** created: new; unchanged: identical to the registered one; refused: the API said no (see error). */
  result: 'created' | 'unchanged' | 'refused';
  checksum?: string;
  error?: { status: number; code: string; message: string; issues?: unknown[] };
  /** refused with 409: a unified diff from the registered definition to the file's (keys sorted, 2-space JSON) */
  diff?: string;
}

/** JSON with every object's keys sorted, so a diff shows what changed, not where a key moved. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((key) => [key, sort((v as Record<string, unknown>)[key])]),
          )
        : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** What changed between the definition registered under this name and version and the file's, or undefined. */
async function conflictDiff(
  ctx: CliContext,
  file: string,
  definition: WorkflowDefinition,
): Promise<string | undefined> {
  try {
    const registered = await ctx.client.workflows.get(definition.name, definition.version);
    const label = `${definition.name}@${definition.version}`;
    return createTwoFilesPatch(
      `registered ${label}`,
      file,
      canonical(registered.definition),
      canonical(definition),
      undefined,
      undefined,
      { context: 3 },
    )
      .split('\n')
      .filter((line) => !line.startsWith('====='))
      .join('\n')
      .trimEnd();
  } catch {
    // reading it back needs the operator role; without it the refusal stands without a diff
    return undefined;
  }
}

function colourDiff(colors: Colors, diff: string): string {
  return diff
    .split('\n')
    .map((line) =>
      line.startsWith('+++') || line.startsWith('---')
        ? colors.bold(line)
        : line.startsWith('+')
          ? colors.green(line)
          : line.startsWith('-')
            ? colors.red(line)
            : line.startsWith('@@')
              ? colors.cyan(line)
              : line,
    )
    .join('\n');
}

/** The definitions in one file: a JSON object, or an array of them. */
function readDefinitions(file: string): WorkflowDefinition[] {
  const parsed = parseJson(readText(file, file), file);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new UsageError(`${file}: expected a workflow definition (a JSON object) or an array of them`);
    }
  }
  return list as WorkflowDefinition[];
}

const field = (definition: WorkflowDefinition, key: 'name' | 'version'): string =>
  typeof definition[key] === 'string' ? definition[key] : '?';

function refusalHint(error: SagaFlowError): string {
  if (error.status === 409) return 'a different definition is registered under this name and version: bump "version"';
  if (error.issues?.length) {
    return error.issues
      .map((issue) => {
        const { path, message } = issue as { path?: unknown[]; message?: string };
        return `${Array.isArray(path) ? path.join('.') : ''}: ${message ?? JSON.stringify(issue)}`;
      })
      .join('; ');
  }
  return '';
}

export const workflowsApply = defineCommand({
  group: 'workflows',
  name: 'apply <files...>',
  summary: 'Register workflow definitions from JSON files (each file: one definition or an array)',
  examples: [
    'sagaflow workflows apply workflows/*.json',
    'SAGAFLOW_ADMIN_TOKEN=… sagaflow workflows apply order.json --json',
  ],
  async run(ctx, files) {
    // read and parse every file first: a usage error (exit 2) registers nothing
    const definitions = files.flatMap((file) => readDefinitions(file).map((definition) => ({ file, definition })));
    const results: Applied[] = [];
    for (const { file, definition } of definitions) {
      const base = { file, name: field(definition, 'name'), version: field(definition, 'version') };
      try {
        const registered = await ctx.client.admin.workflows.register(definition);
        results.push({ ...base, result: registered.created ? 'created' : 'unchanged', checksum: registered.checksum });
      } catch (error) {
        // a refusal of one definition does not stop the others; 401/403 and an unreachable API stop everything
        if (!(error instanceof SagaFlowError) || error.status === 401 || error.status === 403) throw error;
        const { status, code, message, issues } = error;
        const diff = status === 409 ? await conflictDiff(ctx, file, definition) : undefined;
        results.push({
          ...base,
          result: 'refused',
          error: { status, code, message, ...(issues ? { issues } : {}) },
          ...(diff ? { diff } : {}),
        });
        if (!ctx.json) ctx.out.error(ctx.out.colors.red(`${base.name}@${base.version} (${file}): ${code}: ${message}`));
      }
    }
    const refused = results.filter((applied) => applied.result === 'refused');
    if (ctx.json) ctx.out.json({ results });
    else {
      const { colors } = ctx.out;
      const label = {
        created: colors.green('created'),
        unchanged: colors.dim('unchanged'),
        refused: colors.red('refused'),
      };
      ctx.out.line(
        renderTable(
          colors,
          ['WORKFLOW', 'VERSION', 'RESULT', 'FILE', 'NOTE'],
          results.map((applied) => {
            const note = applied.error ? refusalHint(new SagaFlowError(applied.error)) : '';
            return [applied.name, applied.version, label[applied.result], applied.file, note];
          }),
        ),
      );
      for (const applied of refused.filter((r) => r.diff)) {
        ctx.out.line('');
        ctx.out.line(
          `${colors.bold(`${applied.name}@${applied.version}`)} (${applied.file}) differs from the registered one:`,
        );
        ctx.out.line(colourDiff(colors, applied.diff!));
        ctx.out.line(
          colors.yellow(
            `A registered version never changes: give the changed definition a new "version" (e.g. bump it) and apply again.`,
          ),
        );
      }
    }
    return refused.length > 0 ? EXIT.refused : EXIT.ok;
  },
});
