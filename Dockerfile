# syntax=docker/dockerfile:1
# One image for every role: `evergreen worker`, `evergreen scheduler`, `evergreen board`, `evergreen db migrate` (a
# one-shot), `evergreen all`. The TypeScript sources run through tsx, as in development, so there is no compile step:
# the build stage installs the production dependencies of the CLI and of the root scripts, and the runtime stage
# copies that tree and nothing else. The default (last) target is that production image; it holds neither the demo
# nor the fake provider. `--target demo` builds the image of compose's demo profile, which adds both.
#
#   docker build -t evergreen .
#   docker run --rm -e DATABASE_URL=... evergreen db migrate
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... -e EVERGREEN_ENCRYPTION_KEYS=... evergreen worker
#   docker run --rm -v evergreen-secrets:/var/lib/evergreen evergreen secrets init --file /var/lib/evergreen/secrets.env
#   docker build --target demo -t evergreen-demo .

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS sources
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0
WORKDIR /app
# pnpm at the version package.json names (packageManager), through corepack.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN corepack enable && corepack install
COPY . .

FROM sources AS build
# Production dependencies only, of the CLI and of the root package (scripts/migrate.ts, scripts/start.ts) and of the
# workspace packages they use; the `test` project, the demo and every devDependency stay out. --filter-prod follows
# dependencies only: a plain --filter would also select what packages use in their tests (the test support).
RUN pnpm install --frozen-lockfile --prod --filter-prod "evergreen..." --filter-prod "@evergreen/cli..."
# Nothing installed above depends on the demo or on internal-packages (test-only code): their sources stay out too.
# Only this stage's final tree is copied, so a layer of its own costs the image nothing.
RUN rm -rf apps/demo internal-packages

FROM sources AS demo-build
# The same, plus the demo (apps/demo) and what it runs on: the fake provider.
RUN pnpm install --frozen-lockfile --prod --filter-prod "evergreen..." --filter-prod "@evergreen/cli..." --filter-prod "@evergreen/demo..."

FROM ${NODE_IMAGE} AS runtime-base
# tini as PID 1 forwards SIGTERM to node, which drains (stops taking jobs, finishes the refreshes in flight, releases
# their locks) before exiting, and reaps zombies. `docker run --init` works as well.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# Production mode: start-up refuses the encryption key and admin tokens ever published in the repository. Outside a
# container the board and the ops port listen on loopback; in one they must be reachable from outside it (published
# ports, the kubelet's probes, Prometheus): the board on EVERGREEN_BOARD_PORT, the api on EVERGREEN_API_PORT, every
# role's /metrics, /healthz and /readyz on EVERGREEN_OPS_PORT.
ENV NODE_ENV=production EVERGREEN_OPS_HOST=0.0.0.0 EVERGREEN_BOARD_HOST=0.0.0.0 EVERGREEN_API_HOST=0.0.0.0
# Where compose's one-shot `secrets` service (`evergreen secrets init`) writes the generated key and admin token: a
# named volume mounted here starts as a copy of this directory, so it must belong to the user the image runs as.
RUN mkdir -p /var/lib/evergreen && chown 1000:1000 /var/lib/evergreen && chmod 700 /var/lib/evergreen
WORKDIR /app
EXPOSE 3000 3100 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "apps/cli/bin/evergreen.mjs"]
CMD ["--help"]

# compose's demo profile: the runtime with the demo, run as `node --import tsx apps/demo/src/main.ts`.
FROM runtime-base AS demo
COPY --from=demo-build /app /app
USER 1000:1000

# The production image, the default target.
FROM runtime-base AS runtime
COPY --from=build /app /app
# The node image's own user `node`, never root, by number so that Kubernetes' runAsNonRoot can verify it; the tree
# stays root-owned and read-only to it (COPY writes root-owned files whatever the user). tsx caches compiled sources
# under the temporary directory: give it a writable /tmp when the root filesystem is read-only.
USER 1000:1000
