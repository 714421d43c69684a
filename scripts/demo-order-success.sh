#!/usr/bin/env bash
# Demo: start an order-processing run against a running `pnpm dev`, print each step's status until the run
# is terminal, exit 0 only when it COMPLETED.
#   SAGAFLOW_URL   API base URL (default http://localhost:3000)
#   DEMO_TIMEOUT_S give up after this many seconds (default 60)
set -euo pipefail

API="${SAGAFLOW_URL:-http://localhost:3000}"
TIMEOUT_S="${DEMO_TIMEOUT_S:-60}"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is required" >&2; exit 2; }
done

order_id="order-$(date +%s)-$RANDOM"
body=$(jq -n --arg id "$order_id" \
  '{input: {orderId: $id, amount: 42.5, currency: "EUR", sku: "sku-123", quantity: 1, email: "buyer@example.com"}}')

echo "POST $API/v1/workflows/order-processing/start  (idempotency-key: $order_id)"
response=$(curl -sS -w '\n%{http_code}' -X POST "$API/v1/workflows/order-processing/start" \
  -H 'content-type: application/json' -H "idempotency-key: $order_id" -d "$body") || {
  echo "demo: cannot reach the API at $API (is 'pnpm dev' running?)" >&2
  exit 1
}
status_code=${response##*$'\n'}
response=${response%$'\n'*}
if [ "$status_code" != "202" ]; then
  echo "demo: start answered $status_code: $response" >&2
  [ "$status_code" = "404" ] && echo "demo: is order-processing registered? run 'pnpm seed'" >&2
  exit 1
fi
run_id=$(jq -r .runId <<<"$response")
echo "run $run_id accepted"

deadline=$((SECONDS + TIMEOUT_S))
last=""
while :; do
  view=$(curl -sS --fail "$API/v1/runs/$run_id") || { echo "demo: GET /v1/runs/$run_id failed" >&2; exit 1; }
  line=$(jq -r '"\(.run.status | . + " " * (12 - length)) " + ([.steps[] | "\(.stepId)=\(.status)"] | join("  "))' <<<"$view")
  if [ "$line" != "$last" ]; then
    echo "  $line"
    last=$line
  fi
  run_status=$(jq -r .run.status <<<"$view")
  case "$run_status" in
    COMPLETED)
      echo "run $run_id COMPLETED"
      exit 0
      ;;
    COMPENSATED | FAILED | CANCELLED)
      echo "demo: run ended $run_status, expected COMPLETED: $(jq -c .run.error <<<"$view")" >&2
      exit 1
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "demo: run $run_id still $run_status after ${TIMEOUT_S}s" >&2
    exit 1
  fi
  sleep 0.5
done
