# Owned by test/sftp/: jmp-sftp and jmp-ssh's sftp subsystem end to end, with
# real SFTP clients (OpenSSH sftp and scp, curl sftp://, PuTTY's psftp)
# against lab hosts of its own (own prefix, net and dir, so it can run beside
# other labs), a real jmp-api and jmp-agent. Needs root and scripts/apt/sftp.txt.
#   sftp-test         the suite
#   bench-sftp-throughput  the benchmark (make bench runs it too)
.PHONY: sftp-test bench-sftp-throughput

sftp-test: lab-install native-build
	node scripts/bundle.mjs jmp-agent
	JMP_LAB_AGENT=bundle JMP_LAB_PREFIX=jsf- JMP_LAB_NET=10.236.0 JMP_LAB_DIR=/run/jmp-sftp-lab scripts/node-test.sh test/sftp

bench-sftp-throughput:
	scripts/bench.sh sftp-throughput

TEST_SUITES += sftp-test
