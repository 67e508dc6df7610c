# Owned by services/rdp and test/rdp: jmp-rdp's desktops against real guacd
# (1.3.0, bullseye pin: scripts/apt/rdp.txt, scripts/apt-bullseye.sh) and
# xrdp in lab hosts of the suite's own lab (own prefix, net and dir, so it can
# run beside the other lab suites); the Linux desktop's host runs the agent's
# bundle with pam_jmp in xrdp-sesman's stack. Needs root.
#   rdp-test  scripts/node-test.sh test/rdp (the browser part writes docs/screenshots/desktop.png)
.PHONY: rdp-test

RDP_LAB_ENV := JMP_LAB_PREFIX=jrd- JMP_LAB_NET=10.238.0 JMP_LAB_DIR=/run/jmp-rdp-lab

rdp-test: lab-install native-build web-build
	node scripts/bundle.mjs jmp-agent
	$(RDP_LAB_ENV) JMP_LAB_AGENT=bundle scripts/node-test.sh test/rdp

TEST_SUITES += rdp-test
