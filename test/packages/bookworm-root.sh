#!/usr/bin/env bash
# Prints the path of a clean Debian bookworm root for the package tests,
# building it with debootstrap when missing. The root is keyed by the date
# (one CI run reuses it; a new day starts fresh) and holds, besides minbase,
# the downloaded .debs of what jmp-agent depends on, so `apt-get install
# ./jmp-agent_*.deb` inside a copy resolves dependencies for real without a
# second download. Roots of other days are removed.
#   JMP_PKG_ROOT_CACHE  cache dir (default /var/cache/jmp-test)
#   JMP_PKG_MIRROR      Debian mirror (default: the first URI apt uses here)
set -euo pipefail
CACHE=${JMP_PKG_ROOT_CACHE:-/var/cache/jmp-test}
ROOT=$CACHE/bookworm-$(date -u +%Y%m%d)
# What the .deb depends on (kept in step with packaging/deb/control.in).
DEPS=(nodejs openssh-server sudo ca-certificates)

log() { echo "bookworm-root: $*" >&2; }

mirror() {
  if [[ -n ${JMP_PKG_MIRROR:-} ]]; then echo "$JMP_PKG_MIRROR"; return; fi
  local m
  m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list |
    grep -oE 'https?://[^ ]*debian/?' | grep -v security | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

ready() { [[ -f $ROOT/.jmp-ready && $(<"$ROOT/.jmp-ready") == "${DEPS[*]}" ]]; }
if ready; then echo "$ROOT"; exit 0; fi
((EUID == 0)) || { log "must run as root"; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if ready; then echo "$ROOT"; exit 0; fi
for old in "$CACHE"/bookworm-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]; do [[ -d $old && $old != "$ROOT" ]] && { log "removing $old"; rm -rf --one-file-system "$old"; }; done
start=$(date +%s)
M=$(mirror)
# A root of today whose dependency list changed only needs the new downloads.
if [[ -d $ROOT ]]; then mv "$ROOT" "$ROOT.tmp"; else
rm -rf --one-file-system "$ROOT.tmp"
log "debootstrap --variant=minbase bookworm from $M (a few minutes)"
debootstrap --variant=minbase bookworm "$ROOT.tmp" "$M" >"$CACHE/debootstrap.log" 2>&1 ||
  { tail -n 30 "$CACHE/debootstrap.log" >&2; log "debootstrap failed (log: $CACHE/debootstrap.log)"; exit 1; }
# Services never start inside the root on their own (tests start them).
printf '#!/bin/sh\nexit 101\n' >"$ROOT.tmp/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT.tmp/usr/sbin/policy-rc.d"
# Keep downloaded .debs: the tests install the package's dependencies from them.
rm -f "$ROOT.tmp/etc/apt/apt.conf.d/docker-clean"
echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$ROOT.tmp/etc/apt/apt.conf.d/10jmp-keep-debs"
cp /etc/resolv.conf "$ROOT.tmp/etc/resolv.conf"
fi
log "downloading ${DEPS[*]} and their dependencies"
chroot "$ROOT.tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends --download-only "${DEPS[@]}" >>"$CACHE/debootstrap.log" 2>&1 ||
  { tail -n 30 "$CACHE/debootstrap.log" >&2; log "apt-get --download-only failed"; exit 1; }
echo "${DEPS[*]}" >"$ROOT.tmp/.jmp-ready"
mv "$ROOT.tmp" "$ROOT"
log "built $ROOT in $(($(date +%s) - start)) s"
echo "$ROOT"
