#!/bin/bash
# A device-like CLI for the lab: a prompt, a few commands, and a log of every
# line it receives (so tests can show a blocked command never reached it).
LOG="$(dirname "$(readlink -f "$0")")/device-cli.log"
echo "Lab switch CLI"
while IFS= read -r -p "sw-lab# " line; do
  printf '%s\n' "$line" >>"$LOG"
  case "$line" in
    "show version") echo "Lab IOS 15.2(4)" ;;
    "show size") echo "size $(stty size)" ;;
    "show binary") printf 'bin:\xff\xfe:end\n' ;;
    exit | quit) exit 0 ;;
    "") ;;
    *) echo "% done: $line" ;;
  esac
done
