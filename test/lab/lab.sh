#!/usr/bin/env bash
# jmp test lab: Linux target hosts as network namespaces on one machine, each
# with a real OpenSSH sshd, sudo, PAM (pam_jmp.so) and NSS (libnss_jmp.so.2)
# and its own agent process. See test/lab/README.md and ../shared/LAB-NOTES.md.
#
#   lab.sh up N | up NAME...     create/start hosts (h1..hN); idempotent
#   lab.sh down                  remove every jmp- namespace, link, process, file
#   lab.sh status                one line per host
#   lab.sh exec NAME CMD...      run CMD inside the host (its mount/uts/net ns)
#   lab.sh ssh NAME USER TICKET [CMD...]
#                                log in with OpenSSH, answering `jmp ticket:`
#   lab.sh restart-sshd NAME | restart-agent NAME
#   lab.sh prepare NAME... / start NAME...   the two halves of `up` (lab.ts)
#
# Environment:
#   JMP_LAB_DIR        state dir (default /run/jmp-lab)
#   JMP_LAB_NET        first three octets of the /24 (default 10.231.0)
#   JMP_LAB_PREFIX     prefix of namespaces, links and overlays (default jmp-);
#                      two labs with distinct PREFIX, NET and DIR can coexist
#   JMP_LAB_AGENT_CMD  shell command for each host's agent (run with sh -c
#                      inside the host, cwd the repo, JMP_LAB_HOST set);
#                      `none`: no agent; `responder`: test/lab/responder.mjs
#                      (rules in /var/lib/jmp/responder.json). A host dir file
#                      `agent.argv` (NUL-separated argv, empty = no agent),
#                      written by lab.ts, takes precedence. Default: the real
#                      agent (agent/src/main.ts run --config /etc/jmp/agent.conf)
#                      once it exists, else no agent.
#   JMP_LAB_AGENT      source (default: agent/src/main.ts through tsx) or
#                      bundle (dist/jmp-agent.mjs with agent/node-flags, as
#                      the packages run it)
#   JMP_LAB_AGENT_WAIT_MS  how long to wait for the agent socket (default 15000)
#   JMP_LAB_DEBUG=1    sshd LogLevel DEBUG1 and pam_jmp `debug`
#   JMP_LAB_PAM_MODULE pam_jmp.so path (default: the installed one)
#   JMP_LAB_OWNER_PID  recorded in $JMP_LAB_DIR/owner (lab.ts sets it)
set -euo pipefail

REPO=$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)
LAB=${JMP_LAB_DIR:-/run/jmp-lab}
NET=${JMP_LAB_NET:-10.231.0}
PREFIX=${JMP_LAB_PREFIX:-jmp-}
[[ $PREFIX =~ ^[a-z][a-z0-9]{0,3}-$ ]] || { echo "lab: JMP_LAB_PREFIX must be 2-5 chars ending in '-' (got '$PREFIX')" >&2; exit 1; }
BRIDGE=${PREFIX}br0
SSHD=/usr/sbin/sshd
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

# Multiarch library dirs, from where Debian put pam_unix.so / libnss_files.
SECDIR=/usr/lib/x86_64-linux-gnu/security
for f in /usr/lib/*/security/pam_unix.so; do [[ -e $f ]] && { SECDIR=${f%/*}; break; }; done
LIBDIR=${SECDIR%/*}
PAM_MODULE=${JMP_LAB_PAM_MODULE:-$SECDIR/pam_jmp.so}

need_root() { ((EUID == 0)) || die "must run as root"; }

# Sleep without a fork (this kind of machine pays ~8 ms per exec).
exec {SLEEP_FD}<> <(:)
nap() { read -rt "${1:-0.01}" -u "$SLEEP_FD" || true; }
# Whole file into a variable without a fork ("" if missing).
slurp() { local -n _v=$1; _v=""; if [[ -r $2 ]]; then IFS= read -r -d '' _v <"$2" || true; fi; }
# First line of a file ("" if missing).
line1() { local -n _l=$1; _l=""; if [[ -r $2 ]]; then IFS= read -r _l <"$2" || true; fi; }
# Write stdin-free content: put NAME CONTENT
put() { printf '%s' "$2" >"$1"; }

check_modules() {
  [[ -e $PAM_MODULE ]] || die "$PAM_MODULE missing: run 'make lab-install' (pam-build + cmake --install build/pam)"
  [[ -e $LIBDIR/libnss_jmp.so.2 ]] || die "$LIBDIR/libnss_jmp.so.2 missing: run 'make lab-install'"
  local b
  for b in pam_jmp.so:$PAM_MODULE libnss_jmp.so.2:$LIBDIR/libnss_jmp.so.2; do
    if [[ -e $REPO/build/pam/${b%%:*} ]] && ! cmp -s "$REPO/build/pam/${b%%:*}" "${b#*:}"; then
      log "warning: ${b#*:} differs from build/pam/${b%%:*} (run 'make lab-install')"
    fi
  done
  [[ -x $SSHD ]] || die "$SSHD missing: install openssh-server (scripts/apt/lab.txt)"
}

valid_name() { [[ $1 =~ ^[a-z][a-z0-9-]{0,10}$ ]] || die "bad host name '$1' (a-z0-9-, at most 11 chars)"; }

# Sets NS (namespace), HD (host dir), ETC (overlay dir) for host $1.
host_vars() { NS=$PREFIX$1; HD=$LAB/hosts/$1; ETC=/etc/netns/$PREFIX$1; }

# pid (from a pid file) is alive and lives in namespace $2: guards against
# pid reuse after a crash. -ef compares the nsfs inodes without a fork.
pid_in_ns() { [[ -n $1 && -e /proc/$1 && -e /run/netns/$2 && /proc/$1/ns/net -ef /run/netns/$2 ]]; }
# Alive and not a zombie (PID 1 here may be slow to reap what lab.sh left).
alive() {
  local s
  [[ -n $1 && -r /proc/$1/stat ]] || return 1
  { IFS= read -r s </proc/"$1"/stat; } 2>/dev/null || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}
alive_pidfile() { local p; line1 p "$1"; pid_in_ns "$p" "$2"; }

mkdir_created() { # mkdir -p, remembering dirs we created outside $LAB
  local d
  for d in "$@"; do
    if [[ ! -d $d ]]; then mkdir -p "$d"; echo "$d" >>"$LAB/created-dirs"; fi
  done
}

# host index: kept across `up` calls; new hosts take the smallest free one.
declare -A USED_IDX=()
host_index() {
  local name=$1 f i
  IDX=""
  line1 IDX "$LAB/hosts/$name/index"
  [[ -n $IDX ]] && { USED_IDX[$IDX]=1; return; }
  for f in "$LAB"/hosts/*/index; do [[ -f $f ]] && { line1 i "$f"; USED_IDX[$i]=1; }; done
  for ((i = 1; i <= 200; i++)); do
    [[ -z ${USED_IDX[$i]:-} ]] && { IDX=$i; USED_IDX[$i]=1; return; }
  done
  die "no free host index"
}

# ---------------------------------------------------------------- files
# Everything that is the same on every host is built once per lab in
# $LAB/template and copied with one `cp -a` per host.
build_template() {
  local t=$LAB/template mod=$PAM_MODULE args="conf=/etc/jmp/pam.conf" level=VERBOSE stamp s
  if [[ ${JMP_LAB_DEBUG:-} == 1 ]]; then args+=" debug"; level=DEBUG1; fi
  stamp="$mod $args $level"
  line1 s "$LAB/template.stamp"
  [[ $s == "$stamp" && -d $t ]] && return 0
  rm -rf "$t"; mkdir -p "$t/ssh/ssh_config.d" "$t/ssh/sshd_config.d" "$t/jmp"
  cp -a /etc/pam.d /etc/sudoers.d "$t/"
  cp -a /etc/ssh/moduli /etc/ssh/ssh_config "$t/ssh/" 2>/dev/null || true
  local nss="" l
  while IFS= read -r l || [[ -n $l ]]; do
    case $l in passwd:*) l="passwd:         files jmp" ;; group:*) l="group:          files jmp" ;; esac
    nss+=$l$'\n'
  done </etc/nsswitch.conf
  [[ $nss == *$'\n'passwd:* || $nss == passwd:* ]] || nss+=$'passwd:         files jmp\ngroup:          files jmp\n'
  put "$t/nsswitch.conf" "$nss"

  put "$t/pam.d/sshd" "# jmp lab host: pam_jmp asks the host's agent (prompt \"jmp ticket: \").
auth       [success=done ignore=ignore default=die] $mod $args
@include common-auth
account    required     pam_nologin.so
account    required     $mod $args
@include common-account
session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close
session    optional     pam_loginuid.so
session    optional     pam_keyinit.so force revoke
session    required     pam_mkhomedir.so skel=/etc/skel umask=0077
@include common-session
session    optional     $mod $args
session    required     pam_limits.so
session    required     pam_env.so
session    required     pam_env.so user_readenv=1 envfile=/etc/default/locale
session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so open
@include common-password
"
  for s in sudo sudo-i; do
    put "$t/pam.d/$s" "# jmp lab host: pam_jmp asks the agent (op sudo), never prompts.
session    required   pam_limits.so
auth       [success=done ignore=ignore default=die] $mod $args
@include common-auth
@include common-account
@include common-session-noninteractive
"
  done
  for s in su su-l; do
    put "$t/pam.d/$s" "# jmp lab host: pam_jmp asks the agent (op su), never prompts.
auth       sufficient pam_rootok.so
auth       [success=done ignore=ignore default=die] $mod $args
@include common-auth
session    required   pam_env.so readenv=1
session    required   pam_env.so readenv=1 envfile=/etc/default/locale
session    optional   pam_mail.so nopen
session    required   pam_limits.so
@include common-account
@include common-session
"
  done

  put "$t/ssh/sshd_config" "# jmp lab host sshd: keyboard-interactive through PAM (pam_jmp) only.
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods keyboard-interactive
PasswordAuthentication no
PubkeyAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
UseDNS no
MaxStartups 200:30:400
MaxAuthTries 3
LoginGraceTime 30
LogLevel $level
PrintMotd no
X11Forwarding no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"
  put "$t/sudoers.d/jmp" "# jmp: users in jmp-users reach PAM (pam_jmp decides); no cached sudo.
Defaults:%jmp-users timestamp_timeout=0, noninteractive_auth, passwd_tries=1
%jmp-users ALL=(ALL:ALL) ALL
"
  chmod 0440 "$t/sudoers.d/jmp"
  visudo -cq -f "$t/sudoers.d/jmp" || die "sudoers.d/jmp: invalid"
  put "$LAB/template.stamp" "$stamp"$'\n'
}

# Per-host files (the host must not be running: overlays are bound by inode).
write_host_files() {
  local name=$1
  host_vars "$name"
  mkdir -p "$ETC"
  cp -a "$LAB/template/." "$ETC/"
  put "$ETC/hostname" "$name"$'\n'
  local dbg=""
  [[ ${JMP_LAB_DEBUG:-} == 1 ]] && dbg=$'debug = yes\n'
  put "$ETC/jmp/pam.conf" "# jmp lab host $name: the agent socket (/run/jmp/agent.sock inside the host).
socket = $HD/run-jmp/agent.sock
timeout_ms = 3000
fail_mode = deny
$dbg"
  # The real agent's config (agent/src/config.ts): defaults fit the host's
  # view (/run/jmp/agent.sock, /var/lib/jmp); the NSS files are named by the
  # same absolute paths as nss.conf. `prepare` (lab.ts) may replace it.
  put "$ETC/jmp/agent.conf" "# jmp lab host $name (test/lab/lab.sh)
{
  \"files\": { \"passwd\": \"$HD/var-lib-jmp/passwd\", \"group\": \"$HD/var-lib-jmp/group\" }
}
"
  put "$ETC/jmp/nss.conf" "# jmp lab host $name: the agent's cache files (/var/lib/jmp/* inside the host).
passwd = $HD/var-lib-jmp/passwd
group = $HD/var-lib-jmp/group
enumerate = no
"
}

# Written in place (truncate + write keeps the inode a running host has bound).
write_hosts() {
  local name=$1 h n a out
  out=$'127.0.0.1 localhost\n'"127.0.1.1 $name"$'\n::1 localhost ip6-localhost ip6-loopback\n'"$NET.1 jmp-lab-gw"$'\n'
  for h in "$LAB"/hosts/*/address; do
    [[ -f $h ]] || continue
    n=${h%/address}; n=${n##*/}
    [[ $n == "$name" ]] && continue
    line1 a "$h"; out+="$a $n"$'\n'
  done
  put "/etc/netns/$PREFIX$name/hosts" "$out"
}

write_known_hosts() {
  local h n a k out=""
  for h in "$LAB"/hosts/*/address; do
    n=${h%/address}; n=${n##*/}
    [[ -f $h ]] || continue
    line1 a "$h"; line1 k "/etc/netns/$PREFIX$n/ssh/ssh_host_ed25519_key.pub"
    [[ -n $k ]] || continue
    k=${k% *} # drop the comment
    out+="$a,$n $k"$'\n'
  done
  put "$LAB/known_hosts.tmp" "$out"
  mv -f "$LAB/known_hosts.tmp" "$LAB/known_hosts"
}

# ---------------------------------------------------------------- processes
start_anchor() { # the process that holds the host's private mount + uts ns
  local name=$1
  host_vars "$name"
  alive_pidfile "$HD/anchor.pid" "$NS" && return 0
  rm -f "$HD/anchor.pid"
  # shellcheck disable=SC2016
  ip netns exec "$NS" unshare --uts --mount --propagation private sh -c '
    set -e
    hostname "$1"
    mount --bind "$2/home" /home
    mount --bind "$2/run-jmp" /run/jmp
    mount --bind "$2/var-lib-jmp" /var/lib/jmp
    # The private /tmp would hide a repository that lives under /tmp (a CI
    # clone): keep it visible at its own path.
    case "$3" in /tmp/*) mkdir -p "$2/repo"; mount --bind "$3" "$2/repo" ;; esac
    mount --bind "$2/tmp" /tmp
    case "$3" in /tmp/*) mkdir -p "$3"; mount --bind "$2/repo" "$3" ;; esac
    echo $$ > "$2/anchor.pid"
    exec sleep infinity' jmp-lab-anchor "$name" "$HD" "$REPO" >>"$HD/log/anchor.log" 2>&1 </dev/null &
}

wait_anchor() {
  local name=$1 i p
  host_vars "$name"
  for ((i = 0; i < 1000; i++)); do
    line1 p "$HD/anchor.pid"
    [[ -n $p ]] && pid_in_ns "$p" "$NS" && return 0
    nap
  done
  cat "$HD/log/anchor.log" >&2 || true
  die "$name: namespace holder did not start"
}

in_host() { # in_host NAME CMD... : exec CMD in the host's namespaces
  local name=$1 anchor; shift
  host_vars "$name"
  line1 anchor "$HD/anchor.pid"
  pid_in_ns "$anchor" "$NS" || die "$name is not up"
  exec nsenter -t "$anchor" -m -u -n --wd="$PWD" -- "$@"
}

start_sshd() {
  local name=$1 anchor log
  host_vars "$name"
  alive_pidfile "$HD/sshd.pid" "$NS" && return 0
  line1 anchor "$HD/anchor.pid"
  slurp log "$HD/log/sshd.log"
  put "$HD/sshd.logmark" "${#log}"
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    nsenter -t "$anchor" -m -u -n -- "$SSHD" -D -E "$HD/log/sshd.log" -f /etc/ssh/sshd_config \
    >>"$HD/log/sshd.log" 2>&1 </dev/null &
  put "$HD/sshd.pid" "$!"$'\n'
}

wait_sshd() {
  local name=$1 pid mark log i
  host_vars "$name"
  line1 pid "$HD/sshd.pid"; line1 mark "$HD/sshd.logmark"
  for ((i = 0; i < 1000; i++)); do
    slurp log "$HD/log/sshd.log"
    [[ ${log:${mark:-0}} == *"Server listening on"* ]] && return 0
    alive "$pid" || break
    nap
  done
  tail -n 20 "$HD/log/sshd.log" >&2 || true
  die "$name: sshd did not start (log: $HD/log/sshd.log)"
}

agent_argv() { # fills the global array AGENT_ARGV; empty = no agent
  AGENT_ARGV=()
  if [[ -f $1/agent.argv ]]; then
    mapfile -d '' -t AGENT_ARGV <"$1/agent.argv"
  elif [[ ${JMP_LAB_AGENT_CMD:-} == none ]]; then
    :
  elif [[ ${JMP_LAB_AGENT_CMD:-} == responder ]]; then
    AGENT_ARGV=("$(command -v node)" "$REPO/test/lab/responder.mjs" --socket /run/jmp/agent.sock
      --rules /var/lib/jmp/responder.json --log /run/jmp/responder.log)
  elif [[ -n ${JMP_LAB_AGENT_CMD:-} ]]; then
    AGENT_ARGV=(sh -c "$JMP_LAB_AGENT_CMD")
  elif [[ ${JMP_LAB_AGENT:-source} == bundle ]]; then
    [[ -f $REPO/dist/jmp-agent.mjs ]] || die "JMP_LAB_AGENT=bundle: dist/jmp-agent.mjs missing (node scripts/bundle.mjs jmp-agent)"
    local flags; line1 flags "$REPO/agent/node-flags"
    # shellcheck disable=SC2206 # the flags are words
    AGENT_ARGV=("$(command -v node)" $flags "$REPO/dist/jmp-agent.mjs" run --config /etc/jmp/agent.conf)
  elif [[ -f $REPO/agent/src/main.ts ]]; then
    AGENT_ARGV=("$(command -v node)" --import tsx "$REPO/agent/src/main.ts" run --config /etc/jmp/agent.conf)
  fi
}

start_agent() {
  local name=$1 anchor
  host_vars "$name"
  alive_pidfile "$HD/agent.pid" "$NS" && return 0
  rm -f "$HD/agent.pid"
  agent_argv "$HD"
  ((${#AGENT_ARGV[@]})) || return 0
  line1 anchor "$HD/anchor.pid"
  rm -f "$HD/run-jmp/agent.sock"
  JMP_LAB_HOST=$name nsenter -t "$anchor" -m -u -n --wd="$REPO" -- "${AGENT_ARGV[@]}" \
    >>"$HD/log/agent.log" 2>&1 </dev/null &
  put "$HD/agent.pid" "$!"$'\n'
}

wait_agent() {
  local name=$1 pid i wait_ms=${JMP_LAB_AGENT_WAIT_MS:-15000}
  host_vars "$name"
  line1 pid "$HD/agent.pid"
  [[ -n $pid ]] || return 0
  for ((i = 0; i < wait_ms / 10; i++)); do
    [[ -S $HD/run-jmp/agent.sock ]] && return 0
    alive "$pid" || break
    nap
  done
  tail -n 30 "$HD/log/agent.log" >&2 || true
  die "$name: agent did not create $HD/run-jmp/agent.sock (log: $HD/log/agent.log)"
}

stop_pidfile() {
  local f=$1 ns=$2 pid i
  line1 pid "$f"
  if pid_in_ns "$pid" "$ns"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do alive "$pid" || break; nap; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# ---------------------------------------------------------------- commands
hosts_from_args() {
  if [[ $# == 1 && $1 =~ ^[0-9]+$ ]]; then
    local i; for ((i = 1; i <= $1; i++)); do echo "h$i"; done
  else
    printf '%s\n' "$@"
  fi
}

cmd_prepare() {
  need_root; check_modules
  local name running batch="" nsbatch keypids=() k
  for name in "$@"; do valid_name "$name"; done
  mkdir -p "$LAB/hosts"
  if [[ -n ${JMP_LAB_OWNER_PID:-} ]]; then put "$LAB/owner" "$JMP_LAB_OWNER_PID"$'\n'
  elif [[ ! -f $LAB/owner ]]; then put "$LAB/owner" $'cli\n'; fi
  mkdir_created /etc/netns /etc/jmp /run/jmp /var/lib/jmp /run/sshd
  chmod 0755 /run/sshd
  build_template

  # One `ip -batch` for the bridge, namespaces and veths; one per namespace.
  [[ -e /sys/class/net/$BRIDGE ]] || batch+="link add $BRIDGE type bridge"$'\n'
  batch+="addr replace $NET.1/24 dev $BRIDGE"$'\n'"link set $BRIDGE up"$'\n'
  declare -gA ADDR=()
  for name in "$@"; do
    host_vars "$name"
    mkdir -p "$HD/home" "$HD/run-jmp" "$HD/var-lib-jmp" "$HD/tmp" "$HD/log"
    chmod 1777 "$HD/tmp"
    host_index "$name"
    put "$HD/index" "$IDX"$'\n'
    ADDR[$name]=$NET.$((10 + IDX))
    put "$HD/address" "${ADDR[$name]}"$'\n'
    [[ -e /run/netns/$NS ]] || batch+="netns add $NS"$'\n'
    [[ -e /sys/class/net/${PREFIX}v$IDX ]] || batch+="link add ${PREFIX}v$IDX type veth peer name eth0 netns $NS"$'\n'
    batch+="link set ${PREFIX}v$IDX master $BRIDGE up"$'\n'
  done
  ip -batch - <<<"$batch" >/dev/null
  for name in "$@"; do
    host_vars "$name"
    nsbatch=$'link set lo up\nlink set eth0 up\n'"addr replace ${ADDR[$name]}/24 dev eth0"$'\n'
    ip -n "$NS" -batch - <<<"$nsbatch" >/dev/null
    # A running host keeps its overlay (bound by inode); rewrite only when down.
    alive_pidfile "$HD/anchor.pid" "$NS" && [[ -d $ETC ]] && continue
    write_host_files "$name"
    if [[ ! -s $ETC/ssh/ssh_host_ed25519_key ]]; then
      rm -f "$ETC/ssh/ssh_host_ed25519_key" "$ETC/ssh/ssh_host_ed25519_key.pub"
      ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$ETC/ssh/ssh_host_ed25519_key" &
      keypids+=($!)
    fi
  done
  for k in "${keypids[@]}"; do wait "$k" || die "ssh-keygen failed"; done
  for name in "$LAB"/hosts/*/; do
    name=${name%/}; name=${name##*/}
    [[ -d /etc/netns/$PREFIX$name ]] && write_hosts "$name"
  done
  write_known_hosts
}

cmd_start() {
  need_root
  local n
  for n in "$@"; do start_anchor "$n"; done
  for n in "$@"; do wait_anchor "$n"; done
  for n in "$@"; do start_sshd "$n"; start_agent "$n"; done
  for n in "$@"; do wait_sshd "$n"; wait_agent "$n"; done
}

cmd_up() {
  (($#)) || die "usage: lab.sh up N | up NAME..."
  local t0=$EPOCHREALTIME names ms
  mapfile -t names < <(hosts_from_args "$@")
  cmd_prepare "${names[@]}"
  cmd_start "${names[@]}"
  ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
  log "up: ${names[*]} in $ms ms"
  cmd_status
}

cmd_down() {
  need_root
  local ns pids pid i l d any
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n $pids ]]; then
      kill -TERM $pids 2>/dev/null || true
      for ((i = 0; i < 200; i++)); do
        any=0; for pid in $pids; do alive "$pid" && any=1; done
        ((any)) || break; nap
      done
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
  done
  for l in /sys/class/net/"$PREFIX"*; do
    [[ -e $l ]] && ip link del "${l##*/}" 2>/dev/null || true
  done
  rm -rf /etc/netns/"$PREFIX"*
  if [[ -f $LAB/created-dirs ]]; then
    tac "$LAB/created-dirs" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
  fi
  rm -rf "$LAB"
}

cmd_status() {
  local h name hd a s g st addr pid
  [[ -d $LAB/hosts ]] || { echo "lab: down"; return 0; }
  for h in "$LAB"/hosts/*/; do
    [[ -d $h ]] || continue
    name=${h%/}; name=${name##*/}
    host_vars "$name"
    a=down; s=down; g=none
    alive_pidfile "$HD/anchor.pid" "$NS" && a=up
    line1 pid "$HD/sshd.pid"; pid_in_ns "$pid" "$NS" && s="pid $pid"
    if [[ -f $HD/agent.pid ]]; then
      g=dead; line1 pid "$HD/agent.pid"; pid_in_ns "$pid" "$NS" && g="pid $pid"
      [[ -S $HD/run-jmp/agent.sock ]] && g+="+socket"
    fi
    st=DOWN; [[ $a == up && $s != down ]] && st=up
    line1 addr "$HD/address"
    printf '%-8s %-4s %-14s ns=%s sshd=%s agent=%s dir=%s\n' "$name" "$st" "$addr" "$NS" "$s" "$g" "$HD"
  done
}

cmd_ssh() { # ssh NAME USER TICKET [CMD...]
  local name=$1 user=$2 ticket=$3; shift 3
  local addr; line1 addr "$LAB/hosts/$name/address"; [[ -n $addr ]] || die "$name is not up"
  JMP_LAB_TICKET=$ticket SSH_ASKPASS="$REPO/test/lab/askpass.sh" SSH_ASKPASS_REQUIRE=force \
    exec ssh -F /dev/null -T \
    -o UserKnownHostsFile="$LAB/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o PreferredAuthentications=keyboard-interactive \
    -o KbdInteractiveAuthentication=yes -o PubkeyAuthentication=no -o PasswordAuthentication=no \
    -o NumberOfPasswordPrompts=1 -o ConnectTimeout=5 -o ControlMaster=no -o ControlPath=none \
    -l "$user" "$addr" "$@"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  prepare) shift; cmd_prepare "$@" ;;
  start) shift; cmd_start "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  exec) shift; (($# >= 2)) || die "usage: lab.sh exec NAME CMD..."; in_host "$@" ;;
  ssh) shift; (($# >= 3)) || die "usage: lab.sh ssh NAME USER TICKET [CMD...]"; cmd_ssh "$@" ;;
  restart-sshd)
    need_root; host_vars "$2"; stop_pidfile "$HD/sshd.pid" "$NS"
    start_sshd "$2"; wait_sshd "$2" ;;
  restart-agent)
    need_root; host_vars "$2"; stop_pidfile "$HD/agent.pid" "$NS"
    start_agent "$2"; wait_agent "$2" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac
