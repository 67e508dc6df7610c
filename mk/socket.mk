# Owned by services/socket/: jmp-socket, the web terminal's backend, against a
# real jmp-api, jmp-ssh and a lab host of its own (own prefix, net and dir, so
# it can run beside other labs). Needs root for the lab part.
#   socket-test  scripts/node-test.sh services/socket
.PHONY: socket-test

socket-test: lab-install
	JMP_LAB_PREFIX=jws- JMP_LAB_NET=10.234.0 JMP_LAB_DIR=/run/jmp-ws-lab scripts/node-test.sh services/socket

TEST_SUITES += socket-test
