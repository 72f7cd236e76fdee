# MultiLine for WeChat. `make run` starts the product locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
NPM_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
PKGS := ./...

.PHONY: run test test-go test-e2e bench lint build package playground tools deps-npm deps-chromium clean

## run: the product locally (SQLite under ./data, built-in WeChat simulator, dev sign-in)
run:
	$(GO) run ./cmd/multiline serve --dev

## build: the binary in ./bin
build:
	$(GO) build -o bin/multiline ./cmd/multiline

## test: every test (installs npm tools and Chromium when missing)
test: tools lint test-go test-e2e

test-go:
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-e2e: build
	@if [ -f e2e/run.sh ]; then bash e2e/run.sh; else echo "e2e: no end-to-end suite yet"; fi

## bench: benchmarks with ratios against baselines measured in the same run
bench:
	$(GO) test -run '^$$' -bench Inbound -benchtime 2000x ./bridge/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./storage/...
	$(GO) test -run '^$$' -bench . -benchtime 100x ./bot/
	$(GO) test -run '^$$' -bench Burst -benchtime 1x -timeout 30m ./cmd/multiline/

## lint: go vet and gofmt must find nothing
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## package: the Teams app package appPackage.zip
package:
	$(GO) run ./cmd/multiline manifest build --out appPackage.zip

## playground: Microsoft 365 Agents Playground against the local bot (run `make run` first)
playground: tools
	bash e2e/playground.sh

tools: deps-npm deps-chromium

deps-npm: $(NPM_STAMP)
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium and a CJK font"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

clean:
	rm -rf bin data appPackage.zip test-artifacts
