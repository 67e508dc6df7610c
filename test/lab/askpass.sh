#!/bin/sh
# SSH_ASKPASS helper for lab logins (SSH_ASKPASS_REQUIRE=force: no tty needed).
# Answers every prompt with $JMP_LAB_TICKET; logs the prompt to
# $JMP_LAB_ASKPASS_LOG when set, so tests can check what sshd asked.
if [ -n "${JMP_LAB_ASKPASS_LOG:-}" ]; then
  printf '%s\n' "$1" >>"$JMP_LAB_ASKPASS_LOG"
fi
printf '%s\n' "${JMP_LAB_TICKET-}"
