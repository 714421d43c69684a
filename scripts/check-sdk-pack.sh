#!/usr/bin/env bash
# Checks that @sagaflow/client works outside this repository: packs it (pnpm pack, which builds dist/ first),
# installs the tarball with npm into a fresh project in a temp folder (its dependencies come from the npm
# registry), type-checks the SDK example of sdk/client/README.md against the installed types, then runs it
# against the whole stack on a fresh database (scripts/lib/with-stack.sh) and expects a COMPLETED run.
# Needs DATABASE_URL and REDIS_URL like ci-demos.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/sagaflow-sdk-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "packing @sagaflow/client into $work"
pnpm --filter @sagaflow/client pack --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/sagaflow-client-*.tgz)

project="$work/project"
mkdir "$project"
cd "$project"
printf '{ "name": "sdk-check", "private": true, "type": "module" }\n' >package.json
npm install --no-audit --no-fund --loglevel=error "$tarball" typescript@5.9.3 @types/node@20.19.43

# The block after the `<!-- sdk-example` marker, verbatim.
awk '/<!-- sdk-example/ { armed = 1; next } armed && /^```/ { if (inside) exit; inside = 1; next } inside { print }' \
  "$repo/sdk/client/README.md" >example.ts
if [ ! -s example.ts ]; then
  echo "check-sdk-pack: no SDK example found after '<!-- sdk-example' in sdk/client/README.md" >&2
  exit 1
fi
cp example.ts example.mjs
printf '%s\n' '{ "compilerOptions": { "module": "nodenext", "target": "es2022", "strict": true, "noEmit": true,' \
  '"types": ["node"], "skipLibCheck": false }, "files": ["example.ts"] }' >tsconfig.json
echo "type-checking the README example against the installed package"
npx tsc -p tsconfig.json

echo "running the README example against a running stack"
cd "$repo"
status=0
output=$(bash scripts/lib/with-stack.sh sagaflow_ci_sdk node "$project/example.mjs") || status=$?
echo "$output"
if [ "$status" -ne 0 ]; then
  echo "check-sdk-pack: the README example failed (exit $status)" >&2
  exit 1
fi
if ! grep -qE '^run [0-9a-f-]+ COMPLETED$' <<<"$output"; then
  echo "check-sdk-pack: the README example did not print a COMPLETED run" >&2
  exit 1
fi
echo "the packed @sagaflow/client runs its README example"
