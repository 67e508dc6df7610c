#!/usr/bin/env bash
# Runs every *.test.ts below the given directories with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find "$@" -name node_modules -prune -o -name '*.test.ts' -print | sort)
if ((${#files[@]} == 0)); then
  echo "node-test: no test files under $*" >&2
  exit 1
fi
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
