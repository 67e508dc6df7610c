#!/usr/bin/env bash
# guacd 1.3.0 and libguac-client-rdp0 from Debian bullseye (bookworm has no
# guacd): the suite is added with a low pin (priority 100) so nothing else is
# ever taken from it, and the two packages are installed explicitly.
# Idempotent; run as root by install-deps.sh.
set -euo pipefail
PKGS=(guacd libguac-client-rdp0)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]]; then
  echo "apt-bullseye: missing ${missing[*]} (run as root)" >&2
  exit 1
fi
src=/etc/apt/sources.list.d/jmp-bullseye.sources
pin=/etc/apt/preferences.d/jmp-bullseye
if [[ ! -f $src ]]; then
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bullseye' 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' > "$src"
fi
if [[ ! -f $pin ]]; then
  printf '%s\n' 'Package: *' 'Pin: release n=bullseye' 'Pin-Priority: 100' > "$pin"
fi
echo "apt-bullseye: installing ${missing[*]} from bullseye"
export DEBIAN_FRONTEND=noninteractive
# guacd must not start its daemon here: the tests and the services' units run their own.
rcd=/usr/sbin/policy-rc.d
if [[ ! -e $rcd ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$rcd" && chmod +x "$rcd"
  trap 'rm -f "$rcd"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
