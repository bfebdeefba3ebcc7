#!/usr/bin/env bash
# `pnpm test`: typecheck and lint, then every vitest suite against the real Postgres and Redis (DATABASE_URL / REDIS_URL,
# else the local servers, else testcontainers), then the short chaos run on its own. Ends with one line,
# `tests: N passed, M failed`, counted from vitest's JSON reports, and exits non-zero on any failure.
# Arguments go to vitest and run just those files (no chaos run unless they name it).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
rm -f reports/vitest.json reports/vitest-chaos.json

# The typecheck and the linter (typescript-eslint with type information) gate the run like a failed test.
typecheck=0
if ! pnpm exec tsc -p tsconfig.json --noEmit; then
  echo "typecheck failed" >&2
  typecheck=1
fi
if ! pnpm exec eslint .; then
  echo "lint failed" >&2
  typecheck=1
fi

reporters=(--reporter=default --reporter=json)
if [ "$#" -gt 0 ]; then
  pnpm exec vitest run "${reporters[@]}" --outputFile.json=reports/vitest.json "$@"
  node scripts/test-summary.mjs "$typecheck" "reports/vitest.json:$?"
  exit $?
fi

pnpm exec vitest run "${reporters[@]}" --outputFile.json=reports/vitest.json --exclude test/chaos.test.ts
suites=$?
# The short chaos run kills and restarts its own Postgres and Redis and judges timing (tokens expired, a provider's
# rate): it gets the machine to itself, after everything else.
pnpm exec vitest run "${reporters[@]}" --outputFile.json=reports/vitest-chaos.json test/chaos.test.ts
chaos=$?

node scripts/test-summary.mjs "$typecheck" "reports/vitest.json:$suites" "reports/vitest-chaos.json:$chaos"
