#!/bin/sh
# Maps a role name to the node process it runs, so one image serves every SagaFlow container.
# Any other arguments are executed as given (e.g. `docker run sagaflow:local node -v`).
set -eu
cd /app

role="${1:-api}"
if [ "$#" -gt 0 ]; then shift; fi

case "$role" in
  api) exec node services/api/dist/server.js "$@" ;;
  engine) exec node services/engine/dist/main.js "$@" ;;
  mocks) exec node services/mocks/dist/main.js "$@" ;;
  migrate) exec node packages/db/dist/cli/migrate.js "$@" ;;
  seed) exec node packages/db/dist/cli/seed.js "$@" ;;
  migrate-seed)
    node packages/db/dist/cli/migrate.js
    exec node packages/db/dist/cli/seed.js
    ;;
  *) exec "$role" "$@" ;;
esac
