# Tagdíj build entry points. Every target installs what it needs first (scripts/deps.sh, GOTOOLCHAIN).
SHELL := /bin/bash
# The machines ship an older Go with GOTOOLCHAIN=local; go.mod pins the toolchain, this fetches it.
export GOTOOLCHAIN := go1.27.4
export GOFLAGS := -buildvcs=false
export CGO_ENABLED := 1

GO ?= go
BIN := $(CURDIR)/bin
FUZZTIME ?= 30s

.PHONY: all deps build test demo bench lint fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

demo: build
	@scripts/demo.sh

bench: build
	@scripts/bench.sh

lint: deps
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Runs every fuzz target for FUZZTIME each (go test -fuzz takes one target at a time).
fuzz: deps
	@scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BIN) demo-out bench-out
