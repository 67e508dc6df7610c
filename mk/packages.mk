# Owned by packaging/: the jmp-agent .deb and .rpm (see packaging/README.md).
#   packages       dist/packages/jmp-agent_<v>-1_amd64.deb (lintian-checked) and
#                  dist/packages/jmp-agent-<v>-1.x86_64.rpm
#   packages-test  the wiring's unit tests, then test/packages: install, log in,
#                  sudo, remove and upgrade in a debootstrapped bookworm root
#                  (cached per day in /var/cache/jmp-test), the .rpm's contents
#                  and a --root install. Needs root, Postgres and Redis.
.PHONY: packages packages-test

packages: deps native-build pam-build
	scripts/packages.sh

packages-test: packages
	JMP_LAB_PREFIX=jpk- JMP_LAB_NET=10.233.0 JMP_LAB_DIR=/run/jmp-pkg-lab \
	  scripts/node-test.sh packaging/agent test/packages

TEST_SUITES += packages-test
