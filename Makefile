# jmp: top-level entry points. `make dev` runs the stack, `make test` runs
# every suite on a fresh Debian 12 machine (installing what it needs).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help deps build typecheck bundle test node-test bench dev clean

help:
	@echo "make dev        build and run jmp-api, jmp-ssh, jmp-socket and (as root) demo target hosts; prints what to try"
	@echo "make packages   build the agent .deb and .rpm into dist/packages/"
	@echo "make test       install what tests need, build, run every suite"
	@echo "make build      typecheck, bundle services into dist/, build native addon and C modules"
	@echo "make node24-test the unit suites under Node 24 too (addons built for it in build/node24/)"
	@echo "make bench      run every benchmark (make bench BENCH=<name> for one)"
	@echo "make fuzz       run each fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make lint       eslint, prettier --check and clang-format --dry-run (make format rewrites)"
	@echo "make clean      remove build output"

deps:
	scripts/install-deps.sh

typecheck: deps
	tsc -p tsconfig.json
	tsc -p services/web/tsconfig.json

# Parts add their build and test targets in mk/*.mk; a fragment appends its
# suite to TEST_SUITES (run by `make test` after the ones below, in order).
TEST_SUITES :=
include $(sort $(wildcard mk/*.mk))

bundle: deps
	node scripts/bundle.mjs

build: deps typecheck bundle pam-build native-build

node-test: deps
	scripts/node-test.sh services agent

test: build pam-test native-test node-test lab-test e2e-test $(TEST_SUITES)
	@echo "make test: all suites passed"

bench: deps bundle pam-build native-build
	scripts/bench.sh $(BENCH)

# As root, make dev also runs the demo target hosts h1, h2 as lab hosts (their
# own names: JMP_LAB_PREFIX=jdv- JMP_LAB_NET=10.239.0 JMP_LAB_DIR=/run/jmp-dev-lab).
dev: build web-build $(if $(filter 0,$(shell id -u)),lab-install)
	node --import tsx scripts/dev.ts

clean:
	rm -rf build dist native/build pam-module/build*
