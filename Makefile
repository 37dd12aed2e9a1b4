GO      ?= go
BIN     := bin/jarvis
REDOCLY := tools/redocly/node_modules/.bin/redocly

# Nothing in Jarvis needs cgo, and the image's binary is built without it: building and testing
# the same way here keeps one build cache and runs the binary the image runs.
CGO_ENABLED ?= 0
export CGO_ENABLED

.PHONY: generate build run test lint check bench bench-load web-assets

## generate: regenerate gen/ from the contracts in openapi/
generate:
	$(GO) tool oapi-codegen -config gen/jarvis/config.yaml openapi/jarvis.yaml
	$(GO) tool oapi-codegen -config gen/client/config.yaml openapi/jarvis.yaml
	$(GO) tool oapi-codegen -config gen/aidawg/config.yaml openapi/aidawg.yaml

## build: build the jarvis binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/jarvis

## run: serve the embedded default on 127.0.0.1:4000
run: build
	JARVIS_ENV=$${JARVIS_ENV:-development} ./$(BIN) serve

## test: every test; PostgreSQL and Redis tests run when JARVIS_TEST_DATABASE_URL and JARVIS_TEST_REDIS_URL are set
test:
	$(GO) test -count=1 ./...

## bench: Go benchmarks with allocations, in every package that has some (BENCH selects, BENCHTIME sets each one's time)
BENCH     ?= .
BENCHTIME ?= 2s
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime=$(BENCHTIME) ./...

## bench-load: the loopback load harness: the real server against a bare handler, then at half rate (LOAD_FLAGS passes flags)
bench-load:
	$(GO) run ./tests/load $(LOAD_FLAGS)

$(REDOCLY): tools/redocly/package.json tools/redocly/package-lock.json
	npm ci --prefix tools/redocly --no-audit --no-fund --loglevel=error
	touch $@

## lint: go vet, staticcheck's default checks, no dead code (functions nothing calls, tests included), and the contracts against Redocly's recommended rules
lint: $(REDOCLY)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@dead="$$($(GO) tool deadcode -test ./... | grep -v '^gen/' || true)"; \
		if [ -n "$$dead" ]; then echo "dead code:"; echo "$$dead"; exit 1; fi
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 \
		$(REDOCLY) lint --config openapi/redocly.yaml openapi/jarvis.yaml openapi/aidawg.yaml

## check: what CI checks besides the tests: generated code current, go.mod tidy, lint
check: lint
	$(MAKE) generate
	git diff --exit-code -- gen/
	test -z "$$(git status --porcelain -- gen/)"
	$(GO) mod tidy -diff

WEB := tools/web/node_modules

$(WEB): tools/web/package.json tools/web/package-lock.json
	npm ci --prefix tools/web --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## web-assets: copy the pinned Swagger UI into handlers/docs/assets/vendor and axe-core into tests/testdata (both committed, so that the binary and the tests need no npm)
web-assets: $(WEB)
	mkdir -p handlers/docs/assets/vendor tests/testdata
	for f in swagger-ui-bundle.js swagger-ui.css; do \
		sed '/sourceMappingURL=/d' $(WEB)/swagger-ui-dist/$$f > handlers/docs/assets/vendor/$$f; done
	cp $(WEB)/swagger-ui-dist/LICENSE handlers/docs/assets/vendor/LICENSE
	cp $(WEB)/axe-core/axe.min.js tests/testdata/axe.min.js
