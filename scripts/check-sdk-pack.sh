#!/usr/bin/env bash
# Checks that @sagaflow/client and @sagaflow/cli work outside this repository: packs both (pnpm pack, which builds
# dist/ first), installs the tarballs with npm into a fresh project in a temp folder (their other dependencies come
# from the npm registry), type-checks the SDK example of sdk/client/README.md against the installed types, then runs
# it and the installed `sagaflow` bin against the whole stack on a fresh database (scripts/lib/with-stack.sh) and
# expects a COMPLETED run from each.
# Needs DATABASE_URL and REDIS_URL like ci-demos.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/sagaflow-sdk-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "packing @sagaflow/client and @sagaflow/cli into $work"
pnpm --filter @sagaflow/client pack --pack-destination "$work" >/dev/null
pnpm --filter @sagaflow/cli pack --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/sagaflow-client-*.tgz)
cli_tarball=$(ls "$work"/sagaflow-cli-*.tgz)

project="$work/project"
mkdir "$project"
cd "$project"
printf '{ "name": "sdk-check", "private": true, "type": "module" }\n' >package.json
# both tarballs in one install: the CLI's dependency on @sagaflow/client is the packed one, not the registry's
npm install --no-audit --no-fund --loglevel=error "$tarball" "$cli_tarball" typescript@5.9.3 @types/node@20.19.43
npx --no-install sagaflow --help | grep '^Usage: sagaflow' >/dev/null || {
  echo "check-sdk-pack: the installed sagaflow bin does not print its help" >&2
  exit 1
}

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

# Against the stack: the README example, then the installed CLI starts a demo run and waits for it (exit 0 only
# when it COMPLETED), printing the run's status from its --json output.
cat >"$work/against-stack.sh" <<'SH'
set -euo pipefail
node example.mjs
npx --no-install sagaflow start order-processing --wait --json \
  --input '{"orderId":"cli-check","amount":1,"currency":"EUR","sku":"sku-1","quantity":1,"email":"buyer@example.com"}' |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(`cli ${JSON.parse(s).run.status}`))'
SH
echo "running the README example and the CLI against a running stack"
cd "$repo"
status=0
output=$(bash scripts/lib/with-stack.sh sagaflow_ci_sdk bash -c "cd '$project' && bash '$work/against-stack.sh'") || status=$?
echo "$output"
if [ "$status" -ne 0 ]; then
  echo "check-sdk-pack: the README example or the CLI failed (exit $status)" >&2
  exit 1
fi
if ! grep -qE '^run [0-9a-f-]+ COMPLETED$' <<<"$output"; then
  echo "check-sdk-pack: the README example did not print a COMPLETED run" >&2
  exit 1
fi
if ! grep -qx 'cli COMPLETED' <<<"$output"; then
  echo "check-sdk-pack: the packed CLI did not complete a run" >&2
  exit 1
fi
echo "the packed @sagaflow/client runs its README example, the packed @sagaflow/cli starts and completes a run"
