import { SagaFlowError, type WorkflowDefinition } from '@sagaflow/client';
import { defineCommand } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { parseJson, readText } from '../input.js';
import { renderTable } from '../output.js';

interface Applied {
  file: string;
  name: string;
  version: string;
  /** created: new; unchanged: identical to the registered one; refused: the API said no (see error). */
  result: 'created' | 'unchanged' | 'refused';
  checksum?: string;
  error?: { status: number; code: string; message: string; issues?: unknown[] };
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
        results.push({ ...base, result: 'refused', error: { status, code, message, ...(issues ? { issues } : {}) } });
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
    }
    return refused.length > 0 ? EXIT.refused : EXIT.ok;
  },
});
