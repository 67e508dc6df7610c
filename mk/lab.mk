# Owned by test/lab/: target hosts in network namespaces (real sshd, sudo,
# pam_jmp.so, libnss_jmp.so.2, one agent each). Needs root.
#   lab-install  pam-build, then install the modules into the system paths
#                (the NSS module must be there: sudo is setuid). The root
#                namespace's /etc/pam.d, nsswitch.conf and sudoers are untouched.
#   lab-up       test/lab/lab.sh up $(LAB_HOSTS)   (LAB_AGENT=responder|none|<shell cmd>;
#                default: the real jmp-agent)
#   lab-down     remove every jmp- namespace, link, process and file
#   lab-status   one line per host
#   lab-test     the lab's self-test (test/lab/*.test.ts)
.PHONY: lab-install lab-up lab-down lab-status lab-test

LAB_HOSTS ?= 2
LAB_AGENT ?=

lab-install: pam-build
	cmake --install build/pam >/dev/null

lab-up: export JMP_LAB_AGENT_CMD = $(LAB_AGENT)
lab-up: lab-install
	test/lab/lab.sh up $(LAB_HOSTS)

lab-down:
	test/lab/lab.sh down

lab-status:
	test/lab/lab.sh status

lab-test: lab-install
	scripts/node-test.sh test/lab
