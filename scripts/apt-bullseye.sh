#!/usr/bin/env bash
# guacd 1.3.0 and libguac-client-rdp0 from Debian bullseye (bookworm has no
# guacd): the suite is added with a low pin (priority 100) so nothing else is
# ever taken from it, and the two packages are installed explicitly.
# Idempotent; run as root by install-deps.sh.
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"
mapfile -t missing < <(apt_missing guacd libguac-client-rdp0)
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
apt_install "${missing[@]}"
