// `jmp-agent --help`. Keep in step with the commands; the lab and the
// packages script against this interface.
export const HELP = `jmp-agent: the jmp host agent (PAM/NSS answers, policy cache, config guard)

Usage: jmp-agent COMMAND [options]

Commands:
  run                         Run the daemon in the foreground: JSON logs on stdout,
                              SIGTERM/SIGINT stop it cleanly, SIGHUP pulls the policy now.
  enroll --api URL --token T  Enrol this host: make the key pair (keyFile, 0600), register
                              host name, addresses and SSH host keys, write the state file,
                              then pull the policy once.
         [--token-file PATH]  read the token from a file instead of the command line
         [--hostname NAME]    register NAME instead of this machine's host name
         [--address IP]...    register these addresses instead of the interfaces'
         [--force]            enrol again although already enrolled
         [--no-sync]          skip the first policy pull
  status [--json]             Is the daemon up (ping), is jmp-api reachable, snapshot age,
                              last decision, degraded modes. Exit 1 when the daemon is down.
  sync                        Pull the policy now (ignoring the ETag), write policy.json,
                              passwd and group, and exit. A running daemon keeps its own
                              copy until its next pull (send it SIGHUP to pull at once).
  doctor [--user NAME]        Check the PAM, NSS and sudoers wiring and the cache files,
                              then run a real PAM stack (pam_jmp.so via libpam) against the
                              daemon. Prints OK/WARN/FAIL lines; exit 1 on any FAIL.
  ticket HOST [--json]        Ask jmp-api (through the daemon) for a one-time ticket to log
                              in to HOST as the calling user; prints the ticket.
  db mariadb|redis [-- ARGS]  Open a database terminal on this host as yourself: MariaDB over
                              the local socket (unix_socket, --sandbox --safe-updates), Redis
                              with a per-session ACL user from the daemon. Needs your jmp
                              database right on this host.
  baseline                    Record the guarded files as they are now as the install-time
                              baseline the guard restores (run after wiring PAM/NSS/sudoers,
                              with the daemon stopped).

Options:
  --config PATH               Config file (default: $JMP_AGENT_CONFIG, else /etc/jmp/agent.conf).
                              JSON; lines starting with # are comments. See
                              agent/jmp-agent.conf.example for every key.
  -h, --help                  This help.
  --version                   Print the version.

Exit codes: 0 success, 1 failure, 2 usage error.
`;
