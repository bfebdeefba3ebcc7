# syntax=docker/dockerfile:1
# One image for every role: `evergreen worker`, `evergreen scheduler`, `evergreen board`, `evergreen db migrate` (a
# one-shot), `evergreen all`. The TypeScript sources run through tsx, as in development, so there is no compile step:
# the build stage installs the production dependencies of the CLI and of the root scripts (the demo), and the runtime
# stage copies that tree and nothing else.
#
#   docker build -t evergreen .
#   docker run --rm -e DATABASE_URL=... evergreen db migrate
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... -e EVERGREEN_ENCRYPTION_KEYS=... evergreen worker

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0
WORKDIR /app
# pnpm at the version package.json names (packageManager), through corepack.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN corepack enable && corepack install
COPY . .
# Production dependencies only, of the CLI and of the root package (scripts/demo.ts, scripts/migrate.ts) and of the
# workspace packages they use; the `test` project and every devDependency stay out.
RUN pnpm install --frozen-lockfile --prod --filter "evergreen..." --filter "@evergreen/cli..."

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node, which drains (stops taking jobs, finishes the refreshes in flight, releases
# their locks) before exiting, and reaps zombies. `docker run --init` works as well.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# The node image's own user `node`, never root, by number so that Kubernetes' runAsNonRoot can verify it; the tree
# stays root-owned and read-only to it. tsx caches compiled sources under the temporary directory: give it a writable
# /tmp when the root filesystem is read-only.
USER 1000:1000
# Containers listen on every interface: the board on EVERGREEN_BOARD_PORT (set EVERGREEN_BOARD_HOST=0.0.0.0) and
# every role's /metrics, /healthz and /readyz on EVERGREEN_OPS_PORT.
EXPOSE 3000 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "apps/cli/bin/evergreen.mjs"]
CMD ["--help"]
