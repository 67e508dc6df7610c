# Owned by services/ssh/src/device and test/device: network devices end to end
# (real jmp-api, jmp-ssh's device sessions, a device that is OpenSSH restricted
# to legacy algorithms with a device-like CLI, in its own mount namespace on a
# loopback port). Needs root.
#   device-test  scripts/node-test.sh test/device
.PHONY: device-test

device-test: deps
	scripts/node-test.sh test/device

TEST_SUITES += device-test
