import { OPENAPI_PATH, SDK_SCHEMA_PATH, readCommitted, renderArtifacts } from './openapi-artifacts.js';

/** `pnpm --filter @sagaflow/api run openapi:check`: exits 1 when a committed artifact differs from a fresh one. */
const artifacts = renderArtifacts();
const stale = [
  { path: OPENAPI_PATH, fresh: artifacts.openapi },
  { path: SDK_SCHEMA_PATH, fresh: artifacts.sdkSchema },
].filter(({ path, fresh }) => readCommitted(path) !== fresh);

if (stale.length > 0) {
  for (const { path } of stale) console.error(`stale: ${path}`);
  console.error('run `pnpm openapi` and commit the result');
  process.exit(1);
}
console.log('openapi.json and the SDK schema are up to date');
