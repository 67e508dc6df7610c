#!/usr/bin/env bash
# Runs the benchmarks in test/bench/<name>/run (all, or the one named) and
# collects the JSON line each prints last.
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if ((${#names[@]} == 0)); then
  mapfile -t names < <(find test/bench -mindepth 2 -maxdepth 2 -name run -type f -printf '%h\n' | xargs -n1 basename | sort)
fi
mkdir -p build/bench
fail=0
for n in "${names[@]}"; do
  script=test/bench/$n/run
  [[ -x $script ]] || { echo "bench: no benchmark named '$n' (expected executable $script)" >&2; exit 2; }
  echo "=== bench $n"
  t=$SECONDS
  if "$script" | tee "build/bench/$n.out"; then
    tail -n1 "build/bench/$n.out" >> build/bench/results.jsonl
  else
    echo "bench: $n failed" >&2; fail=1
  fi
  echo "=== bench $n took $((SECONDS - t)) s"
done
exit $fail
