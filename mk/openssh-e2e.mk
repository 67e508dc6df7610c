# Owned by test/e2e/openssh-client.test.ts and the ssh-hop / ssh-sessions
# benchmarks: the real OpenSSH client on a pseudo-terminal (test/e2e/pty.ts,
# util-linux `script`) through jmp-ssh to lab hosts. Needs root.
#   openssh-e2e-test  only the OpenSSH client suite (e2e-test runs it too,
#                     so it is not added to TEST_SUITES)
#   bench-ssh-hop, bench-ssh-sessions  one benchmark each (make bench runs both)
.PHONY: openssh-e2e-test bench-ssh-hop bench-ssh-sessions

openssh-e2e-test: lab-install native-build
	node scripts/bundle.mjs jmp-agent
	JMP_LAB_AGENT=bundle node --import tsx --test --test-reporter=spec test/e2e/openssh-client.test.ts

bench-ssh-hop:
	scripts/bench.sh ssh-hop

bench-ssh-sessions:
	scripts/bench.sh ssh-sessions
