# Owned by native/: builds and tests the jmp-native addon (see native/README.md).
# Output: native/build/Release/jmp_native.node.
#
# cmake-js runs in Node-API mode (native/package.json `binary.napi_versions`),
# so it takes its headers from the node-api-headers and node-addon-api npm
# packages and never downloads anything.
.PHONY: native-build native-test

NATIVE_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

native-build: deps
	cd native && cmake-js compile --log-level warn --parallel $(NATIVE_JOBS)

# The pam_jmp tests drive build/pam/pam_jmp.so, hence pam-build.
native-test: native-build pam-build
	scripts/node-test.sh native
