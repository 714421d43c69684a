#!/usr/bin/env bash
# Runs a command against the whole stack (`pnpm dev`: mocks, API, engine) on a fresh database, then stops it.
#   bash scripts/lib/with-stack.sh <database name> <command> [args...]
# Needs DATABASE_URL (a Postgres server; the database <name> is dropped and created on it) and REDIS_URL.
# The command's exit code is this script's; the stack's log is printed when it does not become ready.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?DATABASE_URL must point at a Postgres server}"
db=$1
shift
psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" -qc "create database $db"
log=$(mktemp)
DATABASE_URL="${DATABASE_URL%/*}/$db" ADMIN_TOKEN="${ADMIN_TOKEN:-ci-admin-token-0123456789}" setsid pnpm dev >"$log" 2>&1 &
pid=$!
stop() {
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT
ready=""
for _ in $(seq 1 180); do
  if curl -fsS http://127.0.0.1:3000/ready >/dev/null 2>&1 && curl -fsS http://127.0.0.1:3100/ready >/dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "stack did not become ready; its log:" >&2
  tail -n 80 "$log" >&2
  exit 1
fi
"$@"
