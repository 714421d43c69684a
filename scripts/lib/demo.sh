# Shared by the demo scripts (sourced, not run): start an order-processing run and follow it to the end.
#   SAGAFLOW_URL   API base URL (default http://localhost:3000)
#   DEMO_TIMEOUT_S give up after this many seconds (default 60)
API="${SAGAFLOW_URL:-http://localhost:3000}"
TIMEOUT_S="${DEMO_TIMEOUT_S:-60}"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is required" >&2; exit 2; }
done

# demo_start <json body> <idempotency key>: POSTs the start, sets RUN_ID (exits on anything but 202).
demo_start() {
  local response status_code
  response=$(curl -sS -w '\n%{http_code}' -X POST "$API/v1/workflows/order-processing/start" \
    -H 'content-type: application/json' -H "idempotency-key: $2" -d "$1") || {
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
  RUN_ID=$(jq -r .runId <<<"$response")
  echo "run $RUN_ID accepted"
}

# demo_follow <expected terminal status>: prints each change of the run's steps (and compensations) until the
# run is terminal; sets VIEW to the final run view; exits 1 on another terminal status or after TIMEOUT_S.
demo_follow() {
  local deadline=$((SECONDS + TIMEOUT_S)) last="" line run_status
  while :; do
    VIEW=$(curl -sS --fail "$API/v1/runs/$RUN_ID") || { echo "demo: GET /v1/runs/$RUN_ID failed" >&2; exit 1; }
    line=$(jq -r '"\(.run.status | . + " " * (12 - length)) "
      + ([.steps[] | "\(.stepId)=\(.status)" + (if .compensationStatus == "NONE" then "" else "/\(.compensationStatus)" end)]
         | join("  "))' <<<"$VIEW")
    if [ "$line" != "$last" ]; then
      echo "  $line"
      last=$line
    fi
    run_status=$(jq -r .run.status <<<"$VIEW")
    case "$run_status" in
      "$1") return 0 ;;
      COMPLETED | COMPENSATED | FAILED | CANCELLED)
        echo "demo: run ended $run_status, expected $1: $(jq -c .run.error <<<"$VIEW")" >&2
        exit 1
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "demo: run $RUN_ID still $run_status after ${TIMEOUT_S}s" >&2
      exit 1
    fi
    sleep 0.5
  done
}
