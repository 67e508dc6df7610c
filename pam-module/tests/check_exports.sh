#!/bin/sh
# Fails if a module exports anything but its PAM/NSS entry points.
set -eu
bad=0
check() { # file, allowed-regex
	syms=$(nm -D --defined-only "$1" | awk '{print $3}' | sed 's/@.*//' | grep -v '^$' || true)
	extra=$(printf '%s\n' "$syms" | grep -Ev "$2" || true)
	if [ -n "$extra" ]; then echo "$1 exports unexpected symbols:"; echo "$extra"; bad=1; fi
	printf '%s: %s\n' "$(basename "$1")" "$(printf '%s ' $syms)"
}
check "$1" '^pam_sm_(authenticate|setcred|acct_mgmt|open_session|close_session)$'
check "$2" '^_nss_jmp_(getpw(nam|uid)_r|getgr(nam|gid)_r|initgroups_dyn|(set|end)(pw|gr)ent|get(pw|gr)ent_r)$'
soname=$(objdump -p "$2" | awk '/SONAME/ {print $2}')
[ "$soname" = libnss_jmp.so.2 ] || { echo "bad SONAME '$soname'"; bad=1; }
exit $bad
