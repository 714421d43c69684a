#!/usr/bin/env bash
# Fails when a generated file differs from what its source generates now: openapi/openapi.json and the SDK's types
# (from the tRPC routers), packages/db/src/schema.generated.ts (from a freshly migrated database, kysely-codegen).
set -euo pipefail
cd "$(dirname "$0")/.."
generated=(openapi/openapi.json sdk/client/src/schema.d.ts packages/db/src/schema.generated.ts)
pnpm --silent openapi >/dev/null
pnpm --silent db:codegen >/dev/null
if ! git diff --exit-code --stat -- "${generated[@]}"; then
  echo "generated files are stale: run 'pnpm openapi' and 'pnpm db:codegen', and commit ${generated[*]}" >&2
  exit 1
fi
echo "${generated[*]} are up to date"
