import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceBundles {
  api: string;
  engine: string;
}

/** esbuild's binary: the one tsx (a devDependency) brings. */
function resolveEsbuild(): string {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx'));
  return join(dirname(fromTsx.resolve('esbuild/package.json')), 'bin/esbuild');
}

/**
 * `--dist`: the entry points the image runs (docker/entrypoint.sh), compiled by `pnpm build`; their workspace imports
 * resolve to the packages' dist through node_modules, as in the image. Throws when they have not been built.
 */
export async function distServices(): Promise<ServiceBundles> {
  const api = join(REPO_ROOT, 'services/api/dist/server.js');
  const engine = join(REPO_ROOT, 'services/engine/dist/main.js');
  for (const entry of [api, engine])
    await access(entry).catch(() => {
      throw new Error(`--dist: ${entry} is missing (run pnpm build first)`);
    });
  return { api, engine };
}

/**
 * `--compiled`: API and engine bundled to plain ESM JavaScript (esbuild, workspace sources and npm packages in one
 * file each), so the services run with `node <bundle>` and no tsx loader — a stand-in for a built `dist`. Code
 * splitting keeps what the services import dynamically (the OpenTelemetry SDK, the docs page) in chunks of its own,
 * loaded only when used, as `dist` with its node_modules does.
 */
export async function bundleServices(outDir: string): Promise<ServiceBundles> {
  const [api, engine] = await Promise.all([
    bundleEntry('services/api/src/server.ts', join(outDir, 'api')),
    bundleEntry('services/engine/src/main.ts', join(outDir, 'engine')),
  ]);
  return { api, engine };
}

/**
 * One entry (a path from the repository root) bundled into outdir; returns the bundle's path. `external`: npm packages
 * stay imports (resolved from outdir upwards, so outdir must be inside the workspace).
 */
export async function bundleEntry(
  entry: string,
  outdir: string,
  options: { external?: boolean } = {},
): Promise<string> {
  await mkdir(outdir, { recursive: true });
  await run(
    resolveEsbuild(),
    [
      join(REPO_ROOT, entry),
      ...(options.external ? ['--packages=external'] : []),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--splitting',
      '--out-extension:.js=.mjs',
      '--target=node20',
      '--conditions=development',
      '--external:pg-native',
      '--log-level=error',
      // CommonJS dependencies call require(): give the ESM bundle one
      "--banner:js=import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
      `--outdir=${outdir}`,
    ],
    { cwd: REPO_ROOT },
  );
  return join(outdir, `${basename(entry, '.ts')}.mjs`);
}
