import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The CLI bundled into one .mjs file: a plain `node <file>` per test run, no TypeScript loader. */
    cliBin: string;
  }
}

/**
 * Bundles src/bin.ts with its dependencies (the workspace client from source) once per test run: each CLI run in
 * the tests is then a plain Node process (about a quarter of the CPU of `node --import tsx src/bin.ts`). The
 * package.json beside it gives `--version` what the published package's gives it.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-cli-bin-'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  const outfile = join(dir, 'dist', 'bin.mjs');
  await build({
    entryPoints: [join(root, 'src', 'bin.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['development'],
    logLevel: 'warning',
    // commander is CommonJS: its require() calls of Node built-ins need a real require in an ES module
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  project.provide('cliBin', outfile);
  return () => rmSync(dir, { recursive: true, force: true });
}
