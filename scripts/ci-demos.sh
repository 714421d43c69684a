#!/usr/bin/env bash
# Starts the whole stack (pnpm dev) on a fresh database, runs the demos against it (pnpm demo:success,
# pnpm demo:compensate, pnpm demo:refund), stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/lib/with-stack.sh sagaflow_ci_demo bash -c 'pnpm demo:success && pnpm demo:compensate && pnpm demo:refund'
echo "the demos passed"
