import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, serializeOpenApiDocument } from '../src/openapi.js';

/** The two generated artifacts (committed): the OpenAPI document and the SDK's types generated from it. */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const OPENAPI_PATH = join(REPO_ROOT, 'openapi/openapi.json');
export const SDK_SCHEMA_PATH = join(REPO_ROOT, 'sdk/client/src/schema.d.ts');
const OPENAPI_TYPESCRIPT_CLI = join(REPO_ROOT, 'sdk/client/node_modules/openapi-typescript/bin/cli.js');

export interface Artifacts {
  openapi: string;
  sdkSchema: string;
}

/** Generates both artifacts in memory (openapi-typescript runs on a temporary copy of the document). */
export function renderArtifacts(): Artifacts {
  const openapi = serializeOpenApiDocument(buildOpenApiDocument());
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-openapi-'));
  try {
    const documentPath = join(dir, 'openapi.json');
    const schemaPath = join(dir, 'schema.d.ts');
    writeFileSync(documentPath, openapi);
    execFileSync(process.execPath, [OPENAPI_TYPESCRIPT_CLI, documentPath, '-o', schemaPath], { stdio: 'pipe' });
    return { openapi, sdkSchema: nameRecursiveJsonValue(readFileSync(schemaPath, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const GENERATED_JSON_VALUE = `        JsonValue: string | number | boolean | null | components["schemas"]["JsonValue"][] | {
            [key: string]: components["schemas"]["JsonValue"];
        };
`;

/**
 * openapi-typescript writes the recursive JsonValue schema as a member that indexes itself, which TypeScript
 * rejects (TS2502, openapi-ts/openapi-typescript#1603) in any project that type-checks libraries
 * (`skipLibCheck: false`). The member becomes a reference to a recursive type alias, which TypeScript accepts.
 */
function nameRecursiveJsonValue(schema: string): string {
  if (!schema.includes(GENERATED_JSON_VALUE))
    throw new Error('openapi: the generated JsonValue type changed; update nameRecursiveJsonValue');
  return `${schema.replace(GENERATED_JSON_VALUE, '        JsonValue: JsonValue;\n')}
/** Any JSON value (a step's templated request body). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
`;
}

export function readCommitted(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
