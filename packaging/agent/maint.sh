#!/bin/sh
# jmp-agent package scripts, shared by the .deb and the .rpm
# (installed as /usr/lib/jmp-agent/maint.sh):
#   configure    after install or upgrade: wire PAM/NSS/sudoers/sshd (idempotent),
#                record the guard's baseline, (re)start the agent
#   stop         before an upgrade: stop the agent (its guard would undo the rewiring)
#   deconfigure  before removal: stop and disable the agent, put every file back
set -e
LIB=/usr/lib/jmp-agent
NODE=/usr/bin/node

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

reload_sshd() {
  # The sshd drop-in changes the daemon's configuration; PAM files are read per login.
  if have_systemd; then
    for unit in ssh.service sshd.service; do systemctl try-reload-or-restart "$unit" 2>/dev/null || true; done
  fi
}

stop_agent() {
  if have_systemd; then systemctl stop jmp-agent.service 2>/dev/null || true; fi
}

case "$1" in
configure)
  # /var/lib/jmp: state and the NSS cache files every process reads.
  install -d -m 0755 -o root -g root /var/lib/jmp
  install -d -m 0700 -o root -g root /var/lib/jmp-agent
  stop_agent
  "$NODE" "$LIB/jmp-agent-wiring.mjs" install
  /usr/bin/jmp-agent baseline --config /etc/jmp/agent.conf >/dev/null
  if have_systemd; then
    systemctl daemon-reload
    systemctl enable jmp-agent.service >/dev/null 2>&1
    systemctl restart jmp-agent.service
  fi
  reload_sshd
  if [ ! -s /etc/jmp/agent.key ]; then
    echo "jmp-agent: enrol this host: jmp-agent enroll --api URL --token-file FILE"
  fi
  ;;
stop)
  stop_agent
  ;;
deconfigure)
  if have_systemd; then
    systemctl stop jmp-agent.service 2>/dev/null || true
    systemctl disable jmp-agent.service >/dev/null 2>&1 || true
  fi
  "$NODE" "$LIB/jmp-agent-wiring.mjs" remove
  reload_sshd
  ;;
*)
  echo "maint.sh: unknown action '$1' (configure | stop | deconfigure)" >&2
  exit 2
  ;;
esac
