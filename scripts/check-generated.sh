#!/usr/bin/env bash
# Fails when openapi/openapi.json or the SDK's generated types differ from what the routers generate now.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm --silent openapi >/dev/null
if ! git diff --exit-code --stat -- openapi/openapi.json sdk/client/src/schema.d.ts; then
  echo "generated files are stale: run 'pnpm openapi' and commit openapi/openapi.json and sdk/client/src/schema.d.ts" >&2
  exit 1
fi
echo "openapi/openapi.json and sdk/client/src/schema.d.ts are up to date"
