# The style gate (run by .ci/run before the suites): eslint with a small rule
# set that catches real bugs (eslint.config.js), prettier for TypeScript
# (.prettierrc.json, 120 columns) and clang-format for C/C++ (.clang-format).
#   lint      check only
#   format    rewrite the tree in place (prettier --write, clang-format -i)
.PHONY: lint format

LINT_TS := 'services/**/*.ts' 'agent/**/*.ts' 'native/**/*.ts' 'test/**/*.ts' 'scripts/**/*.ts'
LINT_C := $(shell git ls-files 'pam-module/*.c' 'pam-module/*.h' 'native/src/*.cc' 'native/src/*.h' 'test/bench/*.c')

lint: deps
	eslint --max-warnings 0 $(LINT_TS)
	prettier --check --log-level warn $(LINT_TS)
	clang-format-14 --dry-run -Werror $(LINT_C)
	@echo "lint: clean"

format: deps
	prettier --write --log-level warn $(LINT_TS)
	clang-format-14 -i $(LINT_C)
