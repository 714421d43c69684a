#!/usr/bin/env bash
# Demo: start an order-processing run whose confirmation email is rejected (input.simulate), print each step's
# status and compensation until the run is terminal, exit 0 only when it is COMPENSATED and the mock services
# executed the refund and the inventory release for this run.
#   SAGAFLOW_URL                    API base URL (default http://localhost:3000)
#   SAGAFLOW_SERVICE_PAYMENTS_URL   payments mock (default http://localhost:3001)
#   SAGAFLOW_SERVICE_INVENTORY_URL  inventory mock (default http://localhost:3002)
#   DEMO_TIMEOUT_S                  give up after this many seconds (default 60)
set -euo pipefail

API="${SAGAFLOW_URL:-http://localhost:3000}"
PAYMENTS="${SAGAFLOW_SERVICE_PAYMENTS_URL:-http://localhost:3001}"
INVENTORY="${SAGAFLOW_SERVICE_INVENTORY_URL:-http://localhost:3002}"
TIMEOUT_S="${DEMO_TIMEOUT_S:-60}"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is required" >&2; exit 2; }
done

order_id="order-$(date +%s)-$RANDOM"
body=$(jq -n --arg id "$order_id" \
  '{input: {orderId: $id, amount: 42.5, currency: "EUR", sku: "sku-123", quantity: 1, email: "buyer@example.com",
            simulate: {"send-confirmation-email": "reject"}}}')

echo "POST $API/v1/workflows/order-processing/start  (send-confirmation-email will be rejected)"
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
  line=$(jq -r '"\(.run.status | . + " " * (12 - length)) "
    + ([.steps[] | "\(.stepId)=\(.status)" + (if .compensationStatus == "NONE" then "" else "/\(.compensationStatus)" end)]
       | join("  "))' <<<"$view")
  if [ "$line" != "$last" ]; then
    echo "  $line"
    last=$line
  fi
  run_status=$(jq -r .run.status <<<"$view")
  case "$run_status" in
    COMPENSATED) break ;;
    COMPLETED | FAILED | CANCELLED)
      echo "demo: run ended $run_status, expected COMPENSATED: $(jq -c .run.error <<<"$view")" >&2
      exit 1
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "demo: run $run_id still $run_status after ${TIMEOUT_S}s" >&2
    exit 1
  fi
  sleep 0.5
done
echo "run $run_id COMPENSATED: $(jq -c .run.error <<<"$view")"

# The mocks deduplicate on X-Idempotency-Key, so each compensation appears once as an effect.
count_effects() { # <service url> <idempotency key>
  curl -sS --fail "$1/__effects" | jq --arg key "$2" '[.effects[] | select(.idempotencyKey == $key)] | length'
}
refunds=$(count_effects "$PAYMENTS" "$run_id:charge-payment:compensate")
releases=$(count_effects "$INVENTORY" "$run_id:reserve-inventory:compensate")
echo "effects: refund-payment x$refunds (payments), release-inventory x$releases (inventory)"
if [ "$refunds" != "1" ] || [ "$releases" != "1" ]; then
  echo "demo: expected exactly one refund and one release for run $run_id" >&2
  exit 1
fi
echo "refund and release executed once each"
