# Owned by services/api: /v1/openapi.json is linted by Redocly CLI (recommended
# rules, a devDependency: no download) in services/api/test/openapi-lint.test.ts,
# which `make node-test` runs. This target runs that test alone.
.PHONY: openapi-lint

openapi-lint: deps
	scripts/node-test.sh services/api/test/openapi-lint.test.ts
