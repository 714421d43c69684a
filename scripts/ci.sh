#!/usr/bin/env bash
# The one CI sequence, run by .ci/run here and by the GitHub workflow's test job on each Node × Postgres pair:
# install, lint, typecheck, build, the packed SDK, the generated-files drift check, the README's test command, the
# HA failover scenario (where Postgres 15 binaries and apt are present), the demos against a running stack, and
# benchmark smoke runs (the default scenarios, then every SPEC §18 budget scenario). Needs Postgres and Redis listening
# at DATABASE_URL and REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s (+%ss)\n' "$1" "$(($(date +%s) - started))"; }
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

step "install"
node scripts/bootstrap.mjs
export PATH="$PWD/node_modules/.bin:$PATH"

step "lint (prettier, eslint, knip, dclint) + typecheck + build"
pnpm lint
pnpm typecheck
pnpm build

step "SDK tarball in a fresh project outside the workspace runs its README example"
bash scripts/check-sdk-pack.sh

step "generated files are fresh (OpenAPI, SDK types, database schema types)"
bash scripts/check-generated.sh

step "chromium for the console's browser tests (apt, when missing)"
bash scripts/ensure-chromium.sh

step "tests (the README's test command)"
npm test

step "HA failover (pnpm test:ha: Patroni + etcd + HAProxy from apt, primary killed twice under load)"
if [ -x "${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}/postgres" ] && command -v apt-get >/dev/null; then
  pnpm test:ha
else
  echo "skipped: needs Postgres server binaries in \${PG_BIN_DIR:-/usr/lib/postgresql/15/bin} and apt-get (Debian/Ubuntu)"
fi

step "demos (pnpm demo:success, pnpm demo:compensate) against a running stack"
bash scripts/ci-demos.sh

step "benchmark smoke run (the four default scenarios, small N; the figures are not checked here)"
pnpm bench --runs 60 --warmup 10 --start-seconds 2 --idle-wait 0 --out "${TMPDIR:-/tmp}/sagaflow-ci-bench"

step "budget scenarios smoke run (every SPEC §18 budget, small N, 2,000 runs stored; runs must end right, budgets are not checked)"
pnpm bench --scenario budgets --runs 60 --warmup 10 --history 2000 --idle-wait 0 --out "${TMPDIR:-/tmp}/sagaflow-ci-bench"

step "done"
