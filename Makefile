# MultiLine for WeChat. `make run` starts the product locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
NPM_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
PKGS := ./...

.PHONY: run test test-go test-fuzz test-e2e test-ui test-tab bench bench-scale lint lint-ui build bundle package playground tools deps-npm deps-chromium clean

UI := teamsapp/ui
UI_BUNDLE := $(UI)/dist/tab.js
UI_SOURCES := $(shell find $(UI)/src $(UI)/public -type f 2>/dev/null) $(UI)/build.mjs

## run: the product locally (SQLite under ./data, built-in WeChat simulator, dev sign-in)
run: bundle
	@addr=$${MULTILINE_ADDR:-127.0.0.1:3978}; echo "MultiLine tab:      http://$$addr/tab/ (dev sign-in)"; echo "WeChat consumer:    http://$$addr/dev/wechat"
	$(GO) run ./cmd/multiline serve --dev

## build: the binary in ./bin
build: bundle
	$(GO) build -o bin/multiline ./cmd/multiline

## bundle: the tab's UI (TypeScript, React, Fluent UI) bundled by esbuild into teamsapp/ui/dist, which go build embeds
bundle: $(UI_BUNDLE)
$(UI_BUNDLE): $(NPM_STAMP) $(UI_SOURCES)
	node $(UI)/build.mjs --report

## test: every test (installs npm tools and Chromium when missing)
test: tools lint test-ui test-go test-fuzz test-e2e test-tab

## test-ui: the tab's unit tests (Vitest)
test-ui: $(NPM_STAMP)
	node_modules/.bin/vitest run --config $(UI)/vitest.config.mts

## test-tab: the tab in headless Chromium against the real binary, the consumer played through /dev/wechat
## (strict: what needs the bridge fails instead of being reported pending; TAB_E2E_STRICT=0 to relax)
test-tab: build deps-chromium
	TAB_E2E_STRICT=$${TAB_E2E_STRICT:-1} node $(UI)/e2e/tab.e2e.mjs

test-go: bundle
	$(GO) test -count=1 -timeout 20m $(PKGS)

## test-fuzz: every fuzz target (the parsers of outside input) for FUZZTIME each, one
## after another; a crasher fails it and is written to the package's testdata/fuzz.
## The packages' fuzzing binaries are built first, side by side, and each runs all
## its package's targets: a `go test -fuzz` per target would link once per target.
## Plain `go test` runs the seed corpora too.
FUZZTIME ?= 2s
FUZZ_PKGS := ./archive ./bot ./bot/auth ./bot/cards ./bot/connector ./lexicon ./teamsapp ./wechat
test-fuzz:
	@set -e; bin=$$(mktemp -d); trap 'rm -rf "$$bin"' EXIT; cache=$$($(GO) env GOCACHE)/fuzz; \
	for pkg in $(FUZZ_PKGS); do $(GO) test -c -fuzz . -o "$$bin/$$(echo $$pkg | tr -c 'a-z\n' _).test" $$pkg & done; \
	for pkg in $(FUZZ_PKGS); do wait -n || exit 1; done; \
	for pkg in $(FUZZ_PKGS); do \
		test="$$bin/$$(echo $$pkg | tr -c 'a-z\n' _).test"; corpus="$$cache/$$($(GO) list $$pkg)"; \
		for t in $$("$$test" -test.list '^Fuzz'); do \
			echo "fuzz $$pkg $$t for $(FUZZTIME)"; \
			(cd $$pkg && "$$test" -test.run '^$$' -test.fuzz "^$$t\$$" -test.fuzztime $(FUZZTIME) -test.fuzzcachedir "$$corpus"); \
		done; \
	done

test-e2e: build
	@if [ -f e2e/run.sh ]; then bash e2e/run.sh; else echo "e2e: no end-to-end suite yet"; fi

## bench: benchmarks with ratios against baselines measured in the same run
bench:
	$(GO) test -run '^$$' -bench Inbound -benchtime 2000x ./bridge/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./storage/...
	$(GO) test -run '^$$' -bench . -benchtime 100x ./bot/
	$(GO) test -run '^$$' -bench Burst -benchtime 1x -timeout 30m ./cmd/multiline/
	$(GO) test -run '^$$' -bench Table -benchtime 1x -timeout 30m ./cmd/multiline/

## bench-scale: 10k, 100k and 1M idle threads on PostgreSQL (the real binary, production mode): start time,
## idle memory and one sweep of 100 due timers per size, as a curve against the smallest (SCALE_SIZES to choose)
bench-scale:
	$(GO) test -run '^$$' -bench Scale -benchtime 1x -timeout 90m ./cmd/multiline/

## lint: go vet, gofmt and the tab's type check must find nothing
lint: lint-ui
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

lint-ui: $(NPM_STAMP)
	node_modules/.bin/tsc --noEmit -p $(UI)

## package: the Teams app package appPackage.zip
package:
	$(GO) run ./cmd/multiline manifest build --out appPackage.zip

## playground: Microsoft 365 Agents Playground against the local bot (run `make run` first)
playground: tools
	bash e2e/playground.sh

tools: deps-npm deps-chromium

deps-npm: $(NPM_STAMP)
# npm ci empties node_modules first, following a link: in a worktree whose
# node_modules links to a shared install it would empty that install for every
# worktree using it. A link is used as it is.
$(NPM_STAMP): package.json package-lock.json
	@if [ -L node_modules ]; then \
		echo "node_modules links to a shared install ($$(readlink node_modules)): using it as it is, not running npm ci"; \
		test -x node_modules/.bin/esbuild || { echo "the shared install has no esbuild: run npm ci where it lives"; exit 1; }; \
	else \
		npm ci --no-audit --no-fund && touch $@; \
	fi

deps-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium and a CJK font"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

clean:
	rm -rf bin data appPackage.zip test-artifacts
	find $(UI)/dist -mindepth 1 ! -name README.md -delete
