# Owned by test/failover/: the service units and the nginx balancer of
# packaging/, and failover under load.
#   units-test     systemd-analyze verify and the hardening of packaging/systemd/jmp-*.service
#                  (jmp-agent.service with its Node flags filled in, as packaged)
#   failover-test  nginx from packaging/nginx/nginx.conf on loopback: routing, then two
#                  jmp-api and two jmp-ssh with one of each killed during 200 logins
#                  (JMP_FAILOVER_LOGINS=N for another count)
.PHONY: units-test failover-test

units-test: deps
	scripts/node-test.sh test/failover/units.test.ts

failover-test: deps
	scripts/node-test.sh test/failover/routing.test.ts test/failover/failover.test.ts

TEST_SUITES += units-test failover-test
