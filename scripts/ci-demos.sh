#!/usr/bin/env bash
# Starts the whole stack (pnpm dev) on a fresh database, runs both demo scripts against it, stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must point at a Postgres server}"
db=sagaflow_ci_demo
psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" -qc "create database $db"
log=$(mktemp)
DATABASE_URL="${DATABASE_URL%/*}/$db" ADMIN_TOKEN="ci-admin-token-0123456789" setsid pnpm dev >"$log" 2>&1 &
pid=$!
stop() {
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
trap stop EXIT
ready=""
for _ in $(seq 1 180); do
  if curl -fsS http://127.0.0.1:3000/ready >/dev/null 2>&1 && curl -fsS http://127.0.0.1:3100/ready >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "stack did not become ready; its log:" >&2
  tail -n 80 "$log" >&2
  exit 1
fi
bash scripts/demo-order-success.sh
bash scripts/demo-order-fail-compensate.sh
echo "both demos passed"
