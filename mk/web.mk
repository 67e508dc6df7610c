# Owned by services/web and test/browser: the web console (Vite) and its
# browser suite (playwright-core driving /usr/bin/chromium, headless) against
# a real jmp-api, jmp-ssh, jmp-socket and lab hosts h1/h2. Needs root.
#   web-build     npm run build -w services/web  → services/web/dist
#   browser-test  scripts/node-test.sh test/browser (writes docs/screenshots/*.png)
.PHONY: web-build browser-test

# The suite's own lab, so it can run beside the other lab suites.
BROWSER_LAB_ENV := JMP_LAB_PREFIX=jwb- JMP_LAB_NET=10.235.0 JMP_LAB_DIR=/run/jmp-web-lab

web-build: deps
	npm run -s build -w services/web

browser-test: web-build lab-install native-build
	$(BROWSER_LAB_ENV) scripts/node-test.sh test/browser

TEST_SUITES += browser-test
