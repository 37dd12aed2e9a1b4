GO ?= go
BIN := bin/jarvis

.PHONY: generate build run test lint check bench bench-load tidy

generate:
	$(GO) tool oapi-codegen -config gen/jarvis/config.yaml openapi/jarvis.yaml
	$(GO) tool oapi-codegen -config gen/client/config.yaml openapi/jarvis.yaml

build:
	$(GO) build -o $(BIN) ./cmd/jarvis

run: build
	JARVIS_ENV=$${JARVIS_ENV:-development} ./$(BIN) serve

test:
	$(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	npx --yes @redocly/cli@2 lint --config openapi/redocly.yaml openapi/jarvis.yaml

check: lint
	./.ci/check-generated
	$(GO) mod tidy -diff
