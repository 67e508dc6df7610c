#!/usr/bin/env bash
# Builds the jmp-agent packages into dist/packages/ (see packaging/README.md):
#   jmp-agent_<version>_amd64.deb   dpkg-deb, checked with lintian
#   jmp-agent-<version>-1.x86_64.rpm  rpmbuild from packaging/rpm/jmp-agent.spec
# Inputs (make packages builds them): dist/jmp-agent.mjs (bundled here),
# native/build/Release/jmp_native.node, build/pam/pam_jmp.so, build/pam/libnss_jmp.so.2.
#   JMP_PKG_VERSION  version (default: package.json)     JMP_PKG_OUT  output dir
#   JMP_PKG_SKIP_LINTIAN=1  skip lintian (the test's second build of the same tree)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VERSION=${JMP_PKG_VERSION:-$(node -p "require('./package.json').version")}
OUT=${JMP_PKG_OUT:-$REPO/dist/packages}
[[ $VERSION =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "packages: bad version '$VERSION'" >&2; exit 1; }
NODE_FLAGS=$(head -n1 agent/node-flags)
[[ $NODE_FLAGS =~ ^[-a-z0-9=\ ]*$ ]] || { echo "packages: agent/node-flags holds unexpected characters" >&2; exit 1; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
log() { echo "packages: $*" >&2; }

for f in native/build/Release/jmp_native.node build/pam/pam_jmp.so build/pam/libnss_jmp.so.2; do
  [[ -f $f ]] || { log "$f missing: run make native-build pam-build (or make packages)"; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jmp-packages.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

node scripts/bundle.mjs jmp-agent >&2
node_modules/.bin/esbuild packaging/agent/wiring/main.ts --bundle --platform=node --format=esm \
  --target=node18 --minify --legal-comments=none --log-level=warning --outfile="$WORK/jmp-agent-wiring.mjs"

# stage DIR LIBDIR UNITDIR: the installed tree of one distribution family.
stage() {
  local d=$1 libdir=$2 unitdir=$3
  install -d "$d/usr/lib/jmp-agent" "$d/usr/bin" "$d$libdir/security" "$d$unitdir" "$d/etc/jmp" "$d/usr/share/man/man8"
  install -m 0644 dist/jmp-agent.mjs "$WORK/jmp-agent-wiring.mjs" "$d/usr/lib/jmp-agent/"
  install -m 0644 native/build/Release/jmp_native.node "$d/usr/lib/jmp-agent/"
  install -m 0755 packaging/agent/maint.sh "$d/usr/lib/jmp-agent/maint.sh"
  install -m 0644 build/pam/pam_jmp.so "$d$libdir/security/pam_jmp.so"
  install -m 0644 build/pam/libnss_jmp.so.2 "$d$libdir/libnss_jmp.so.2"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$d/usr/lib/jmp-agent/jmp_native.node" "$d$libdir/security/pam_jmp.so" "$d$libdir/libnss_jmp.so.2"
  sed "s|@NODE_FLAGS@|$NODE_FLAGS|" packaging/agent/jmp-agent.in >"$d/usr/bin/jmp-agent"
  chmod 0755 "$d/usr/bin/jmp-agent"
  sed "s|@NODE_FLAGS@|$NODE_FLAGS|" packaging/systemd/jmp-agent.service >"$d$unitdir/jmp-agent.service"
  chmod 0644 "$d$unitdir/jmp-agent.service"
  install -m 0644 packaging/agent/conf/pam.conf packaging/agent/conf/nss.conf "$d/etc/jmp/"
  # The agent's config: every key with its default (agent/jmp-agent.conf.example),
  # with this family's PAM module path for `jmp-agent doctor`.
  sed "s|/usr/lib/x86_64-linux-gnu/security/pam_jmp.so|$libdir/security/pam_jmp.so|" agent/jmp-agent.conf.example >"$d/etc/jmp/agent.conf"
  chmod 0644 "$d/etc/jmp/agent.conf"
  gzip -9n <packaging/agent/jmp-agent.8 >"$d/usr/share/man/man8/jmp-agent.8.gz"
  chmod 0644 "$d/usr/share/man/man8/jmp-agent.8.gz"
}

# ---------------------------------------------------------------- .deb
DEB_ROOT=$WORK/deb
DEB_VERSION=$VERSION-1 # a Debian revision: the package is built outside the upstream tree
stage "$DEB_ROOT" /usr/lib/x86_64-linux-gnu /lib/systemd/system
install -d "$DEB_ROOT/DEBIAN" "$DEB_ROOT/usr/share/doc/jmp-agent" "$DEB_ROOT/usr/share/lintian/overrides"
install -m 0644 packaging/deb/copyright "$DEB_ROOT/usr/share/doc/jmp-agent/copyright"
printf 'jmp-agent (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- jmp maintainers <maintainers@jmp.example.org>  %s\n' \
  "$DEB_VERSION" "$VERSION" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$DEB_ROOT/usr/share/doc/jmp-agent/changelog.Debian.gz"
chmod 0644 "$DEB_ROOT/usr/share/doc/jmp-agent/changelog.Debian.gz"
install -m 0644 packaging/deb/lintian-overrides "$DEB_ROOT/usr/share/lintian/overrides/jmp-agent"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$DEB_ROOT/DEBIAN/"
install -m 0644 packaging/deb/triggers "$DEB_ROOT/DEBIAN/triggers"
(cd "$DEB_ROOT" && find etc -type f | sort | sed 's|^|/|') >"$DEB_ROOT/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$DEB_ROOT" | cut -f1)
sed -e "s|@VERSION@|$DEB_VERSION|" -e "s|@SIZE@|$SIZE|" packaging/deb/control.in >"$DEB_ROOT/DEBIAN/control"
(cd "$DEB_ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$DEB_ROOT/DEBIAN/md5sums"
chmod 0644 "$DEB_ROOT/DEBIAN/control" "$DEB_ROOT/DEBIAN/conffiles" "$DEB_ROOT/DEBIAN/md5sums"
find "$DEB_ROOT" -type d -exec chmod 0755 {} +
DEB=$OUT/jmp-agent_${DEB_VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$DEB_ROOT" "$DEB" >/dev/null
log "$DEB"
if [[ ${JMP_PKG_SKIP_LINTIAN:-} != 1 ]]; then
  log "lintian"
  lintian --fail-on error,warning --tag-display-limit 0 "$DEB" >&2 || { log "lintian found problems in $DEB"; exit 1; }
fi

# ---------------------------------------------------------------- .rpm
RPM_TOP=$WORK/rpm
stage "$RPM_TOP/stage" /usr/lib64 /usr/lib/systemd/system
install -d "$RPM_TOP/stage/usr/share/doc/jmp-agent"
install -m 0644 packaging/rpm/README.rpm "$RPM_TOP/stage/usr/share/doc/jmp-agent/README"
rpmbuild -bb --quiet --define "_topdir $RPM_TOP" --define "jmp_version ${VERSION//[-]/_}" \
  --define "jmp_stage $RPM_TOP/stage" --define "_build_id_links none" packaging/rpm/jmp-agent.spec >&2
cp "$RPM_TOP"/RPMS/x86_64/jmp-agent-*.rpm "$OUT/"
log "$(ls "$OUT"/jmp-agent-"${VERSION//[-]/_}"-*.rpm)"
