#!/usr/bin/env bash
# The Docker Compose stack end to end: lint and resolve docker-compose.yml, build the image, start the stack, wait for
# it, run both demo scripts against it, stop it. Run by the GitHub workflow's compose job, and by .ci/run where a
# Docker engine with the compose plugin is available.
set -euo pipefail
cd "$(dirname "$0")/.."
# Read by docker-compose.yml (api) and by the demo scripts alike.
export ADMIN_TOKEN="${ADMIN_TOKEN:-ci-admin-token-0123456789}"
step() { printf '\n==> compose: %s\n' "$1"; }

step "install (the demos are Node scripts on @sagaflow/client from the workspace)"
node scripts/bootstrap.mjs
export PATH="$PWD/node_modules/.bin:$PATH"

step "lint docker-compose.yml"
npx --yes dclint@3.1.0 docker-compose.yml
docker compose config --quiet
docker compose --profile observability config --quiet

step "build the image"
docker compose build

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then docker compose logs --no-color --timestamps || true; fi
  docker compose down --volumes || true
  exit "$status"
}
trap cleanup EXIT

step "start the stack and wait until it is ready"
docker compose up --detach
wait_for() { curl --silent --show-error --output /dev/null --max-time 5 --retry 120 --retry-delay 1 --retry-all-errors "$@"; }
# Published ports bind 127.0.0.1 only (docker-compose.yml).
wait_for --fail http://127.0.0.1:3000/ready
wait_for --fail http://127.0.0.1:3100/ready
# The mocks only need to accept connections: any HTTP answer will do.
for port in 3001 3002 3003; do wait_for "http://127.0.0.1:${port}/"; done

step "demos against the compose stack"
pnpm demo:success
pnpm demo:compensate
