#!/usr/bin/env bash
# `pnpm test`: typecheck, then every vitest suite against the real Postgres and Redis (DATABASE_URL / REDIS_URL,
# else the local servers, else testcontainers). Ends with one line, `tests: N passed, M failed`, counted from vitest's
# JSON report, and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
rm -f reports/vitest.json

typecheck=0
if ! pnpm exec tsc -p tsconfig.json --noEmit; then
  echo "typecheck failed" >&2
  typecheck=1
fi

pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json "$@"
vitest_status=$?

node scripts/test-summary.mjs reports/vitest.json "$typecheck" "$vitest_status"
