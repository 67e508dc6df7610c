#!/usr/bin/env bash
# Installs what building and testing jmp needs on Debian 12: the Debian packages
# listed in scripts/apt/*.txt and the npm dependencies of package-lock.json.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/apt.sh
mapfile -t wanted < <(sed -e 's/#.*//' scripts/apt/*.txt | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
mapfile -t missing < <(apt_missing "${wanted[@]}")
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
# guacd (jmp-rdp) comes from bullseye with a low pin.
scripts/apt-bullseye.sh

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.jmp-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
