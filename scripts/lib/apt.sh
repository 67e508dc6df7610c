# shellcheck shell=bash
# Debian package helpers sourced by install-deps.sh and apt-bullseye.sh.

# Prints, one a line, the packages of "$@" that are not installed.
apt_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# Installs "$@" (as root, no stdin) without starting any daemon they bring:
# the tests and the services' units run their own (inside network namespaces).
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local rcd=/usr/sbin/policy-rc.d
  if [[ ! -e $rcd ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$rcd" && chmod +x "$rcd"
    # shellcheck disable=SC2064 # the path is fixed now, on purpose
    trap "rm -f '$rcd'" EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
