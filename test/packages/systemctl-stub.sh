#!/bin/sh
# Stand-in for systemctl inside the test root, where systemd cannot be PID 1:
# records every call (/var/log/systemctl.log) and runs jmp-agent.service's
# own ExecStart line for start/restart, stop kills it. Everything else: ok.
echo "$*" >>/var/log/systemctl.log
pidf=/run/jmp-agent.test.pid
stop() {
  [ -f $pidf ] || return 0
  pid=$(cat $pidf)
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  rm -f $pidf
}
start() {
  cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/jmp-agent.service)
  mkdir -p /run/jmp
  # shellcheck disable=SC2086 # the unit's command line is words
  setsid $cmd >>/var/log/jmp-agent.log 2>&1 </dev/null &
  echo $! >$pidf
}
case "$1:$2" in
stop:jmp-agent.service) stop ;;
start:jmp-agent.service) start ;;
restart:jmp-agent.service) stop; start ;;
esac
exit 0
