# Owned by test/e2e/: end-to-end suites against a real jmp-api (Postgres,
# Redis) and lab hosts in network namespaces (test/lab: real sshd, sudo, su,
# pam_jmp.so, libnss_jmp.so.2, jmp-agent). Needs root.
#   e2e-test  scripts/node-test.sh test/e2e
.PHONY: e2e-test

# The lab hosts run the agent's bundle, as the packages install it.
e2e-test: lab-install native-build
	node scripts/bundle.mjs jmp-agent
	JMP_LAB_AGENT=bundle scripts/node-test.sh test/e2e
