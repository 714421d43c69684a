#!/usr/bin/env bash
# Demo: start an order-processing run against a running `pnpm dev`, print each step's status until the run
# is terminal, exit 0 only when it COMPLETED.
#   SAGAFLOW_URL   API base URL (default http://localhost:3000)
#   DEMO_TIMEOUT_S give up after this many seconds (default 60)
set -euo pipefail
source "$(dirname "$0")/lib/demo.sh"

order_id="order-$(date +%s)-$RANDOM"
body=$(jq -n --arg id "$order_id" \
  '{input: {orderId: $id, amount: 42.5, currency: "EUR", sku: "sku-123", quantity: 1, email: "buyer@example.com"}}')

echo "POST $API/v1/workflows/order-processing/start  (idempotency-key: $order_id)"
demo_start "$body" "$order_id"
demo_follow COMPLETED
echo "run $RUN_ID COMPLETED"
