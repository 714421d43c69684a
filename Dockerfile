# syntax=docker/dockerfile:1.7
#
# One image for every SagaFlow process. The role is the first argument (see docker/entrypoint.sh):
#   docker build -t sagaflow:local .
#   docker run --rm --init -e DATABASE_URL=... sagaflow:local migrate   # or: seed, migrate-seed
#   docker run --rm --init -e DATABASE_URL=... -p 3000:3000 sagaflow:local api
#   docker run --rm --init -e DATABASE_URL=... sagaflow:local engine    # or: mocks
#
# Stages: pruner (turbo prune: only the packages the services need) -> builder (install + build)
# -> prod-deps (production node_modules only) -> runtime (slim, non-root).
# Needs BuildKit (the default builder since Docker 23) for the cache mounts and COPY --chmod.

ARG NODE_VERSION=20
ARG PNPM_VERSION=12.4.2
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-bookworm-slim AS base
ARG PNPM_VERSION
ENV TURBO_TELEMETRY_DISABLED=1 \
    CI=1
# corepack fails its signature check for this pnpm version; npm installs the exact pin instead.
RUN npm install --global "pnpm@${PNPM_VERSION}" && npm cache clean --force
WORKDIR /app

# ---- pruner: a sparse copy of the workspace holding only what the deployables (and the console) depend on ----
FROM base AS pruner
ARG TURBO_VERSION
RUN npm install --global "turbo@${TURBO_VERSION}" && npm cache clean --force
COPY . .
RUN turbo prune @sagaflow/api @sagaflow/engine @sagaflow/mocks @sagaflow/db @sagaflow/console --docker

# ---- builder: install every dependency from the pruned lockfile, then compile all packages ----
FROM base AS builder
COPY --from=pruner /app/out/json/ ./
RUN --mount=type=cache,id=sagaflow-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
COPY --from=pruner /app/out/full/ ./
# turbo prune copies packages only; the shared compiler settings live at the root.
COPY tsconfig.base.json ./
RUN pnpm build

# ---- prod-deps: the same workspace layout with production dependencies only ----
FROM base AS prod-deps
COPY --from=pruner /app/out/json/ ./
RUN --mount=type=cache,id=sagaflow-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prod --store-dir /pnpm/store

# ---- runtime: node + compiled JS + production node_modules, run as the unprivileged `node` user ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# HOST, ENGINE_HOST, MOCK_HOST: inside a container the services listen on every interface (their default
# outside one is loopback only).
# MALLOC_ARENA_MAX: fewer glibc malloc arenas for the threads of a Node process (engine RSS under load −15 %; docs/performance.md).
# NODE_OPTIONS --max-semi-space-size=4: V8's young generation at most 3 × 4 MB instead of 3 × 16 MB (peak RSS at 20 runs/s
# −13 to −55 MB per process; not a heap cap: the old generation is unbounded, docs/performance.md#memory).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-semi-space-size=4 \
    HOST=0.0.0.0 \
    ENGINE_HOST=0.0.0.0 \
    MOCK_HOST=0.0.0.0
WORKDIR /app
# Files stay owned by root: the service user can read the code but not change it.
COPY --from=prod-deps /app/ ./
COPY --from=builder /app/packages/definitions/dist/ ./packages/definitions/dist/
COPY --from=builder /app/packages/definitions/workflows/ ./packages/definitions/workflows/
COPY --from=builder /app/packages/local-postgres/dist/ ./packages/local-postgres/dist/
COPY --from=builder /app/packages/db/dist/ ./packages/db/dist/
COPY --from=builder /app/packages/observability/dist/ ./packages/observability/dist/
COPY --from=builder /app/services/api/dist/ ./services/api/dist/
COPY --from=builder /app/services/engine/dist/ ./services/engine/dist/
COPY --from=builder /app/services/mocks/dist/ ./services/mocks/dist/
# the web console's static files, served by the API at /ui (services/api/dist resolves ../../console/dist)
COPY --from=builder /app/services/console/dist/ ./services/console/dist/
# Same layout as the repository: packages/db/dist resolves ../../../migrations/sql from its own location,
# packages/definitions/dist reads ../workflows (the demo definitions the seed registers).
COPY migrations/ ./migrations/
COPY --chmod=0755 docker/entrypoint.sh ./docker/entrypoint.sh
COPY --chmod=0644 docker/healthcheck.mjs ./docker/healthcheck.mjs
USER node
# api, engine (health/ready/metrics), mock-payments, mock-inventory, mock-notifications
EXPOSE 3000 3100 3001 3002 3003
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["api"]
