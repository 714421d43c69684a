#!/usr/bin/env bash
# Demo: start an order-processing run whose confirmation email is rejected (input.simulate), print each step's
# status and compensation until the run is terminal, exit 0 only when it is COMPENSATED and the mock services
# executed the refund and the inventory release for this run.
#   SAGAFLOW_URL                    API base URL (default http://localhost:3000)
#   SAGAFLOW_SERVICE_PAYMENTS_URL   payments mock (default http://localhost:3001)
#   SAGAFLOW_SERVICE_INVENTORY_URL  inventory mock (default http://localhost:3002)
#   DEMO_TIMEOUT_S                  give up after this many seconds (default 60)
set -euo pipefail

source "$(dirname "$0")/lib/demo.sh"
PAYMENTS="${SAGAFLOW_SERVICE_PAYMENTS_URL:-http://localhost:3001}"
INVENTORY="${SAGAFLOW_SERVICE_INVENTORY_URL:-http://localhost:3002}"

order_id="order-$(date +%s)-$RANDOM"
body=$(jq -n --arg id "$order_id" \
  '{input: {orderId: $id, amount: 42.5, currency: "EUR", sku: "sku-123", quantity: 1, email: "buyer@example.com",
            simulate: {"send-confirmation-email": "reject"}}}')

echo "POST $API/v1/workflows/order-processing/start  (send-confirmation-email will be rejected)"
demo_start "$body" "$order_id"
demo_follow COMPENSATED
echo "run $RUN_ID COMPENSATED: $(jq -c .run.error <<<"$VIEW")"

# The mocks deduplicate on X-Idempotency-Key, so each compensation appears once as an effect.
count_effects() { # <service url> <idempotency key>
  curl -sS --fail "$1/__effects" | jq --arg key "$2" '[.effects[] | select(.idempotencyKey == $key)] | length'
}
refunds=$(count_effects "$PAYMENTS" "$RUN_ID:charge-payment:compensate")
releases=$(count_effects "$INVENTORY" "$RUN_ID:reserve-inventory:compensate")
echo "effects: refund-payment x$refunds (payments), release-inventory x$releases (inventory)"
if [ "$refunds" != "1" ] || [ "$releases" != "1" ]; then
  echo "demo: expected exactly one refund and one release for run $RUN_ID" >&2
  exit 1
fi
echo "refund and release executed once each"
