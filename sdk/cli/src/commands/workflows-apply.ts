import { SagaFlowError, type WorkflowDefinition } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { parseJson, readText } from '../input.js';
import { colorDiff, diffDefinitions, type DefinitionDiff } from '../format/definition-diff.js';
import { renderTable } from '../output.js';

interface Applied {
  file: string;
  name: string;
  version: string;
  /** created: new; unchanged: identical to the registered one; refused: the API said no (see error). */
  result: 'created' | 'unchanged' | 'refused';
  checksum?: string;
  error?: { status: number; code: string; message: string; issues?: unknown[] };
  /** On a 409: what the file changes in the definition registered under this name and version. */
  changes?: DefinitionDiff;
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
  if (error.status === 409) return 'differs from the registered definition (diff above): bump "version"';
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

/** The registered definition against the file, or undefined when it cannot be read (the refusal is shown anyway). */
async function diffWithRegistered(
  client: CliContext['client'],
  name: string,
  version: string,
  definition: WorkflowDefinition,
  file: string,
): Promise<DefinitionDiff | undefined> {
  try {
    const registered = await client.workflows.get(name, version);
    return diffDefinitions(registered.definition, definition, [`registered ${name}@${version}`, file]);
  } catch (error) {
    if (error instanceof SagaFlowError) return undefined;
    throw error;
  }
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
        // 409: another document is registered under this name and version; show what the file would change
        const changes =
          status === 409 ? await diffWithRegistered(ctx.client, base.name, base.version, definition, file) : undefined;
        results.push({
          ...base,
          result: 'refused',
          error: { status, code, message, ...(issues ? { issues } : {}) },
          ...(changes ? { changes } : {}),
        });
        if (!ctx.json) {
          const { colors } = ctx.out;
          ctx.out.error(colors.red(`${base.name}@${base.version} (${file}): ${code}: ${message}`));
          if (changes) {
            ctx.out.error(
              `${file} changes ${changes.changedPaths.join(', ')} of the registered ${base.name}@${base.version}:`,
            );
            ctx.out.error(colorDiff(colors, changes.diff));
            ctx.out.error(
              colors.yellow(`a registered version never changes: bump "version" in ${file} and apply it again`),
            );
          }
        }
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
    }
    return refused.length > 0 ? EXIT.refused : EXIT.ok;
  },
});
