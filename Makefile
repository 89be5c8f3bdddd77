# The README's two commands are `make demo` and `make test`; `make bench`
# prints the performance figures, `make fuzz` runs the fuzz targets. Go comes from PATH or /usr/local/go.
SHELL := /bin/bash
export PATH := $(CURDIR)/bin:$(PATH):/usr/local/go/bin
GO ?= go
TOOLS := close-fds closure-scan popularity layer-pack manifest-gen tar-merge pull-blob push-blob nix-db drv-env
BIN := $(CURDIR)/bin
# make install PREFIX=DIR: the tools in DIR/bin, the workflows in
# DIR/libexec/dockertools (with their lib/), and for each workflow a
# command in DIR/bin that runs it with DIR/bin's tools first on PATH.
PREFIX ?= /usr/local
WORKFLOWS := stream-layered-image build-layered-image build-image pull-image prefetch-image \
	export-image merge-images build-index push-image shadow-setup fake-nss stream-nix-shell-image build-nix-shell-image
# What --version prints after each tool's name: the tree's git describe
# (the same tree, the same version), else "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
# The tools are linked statically (no cgo: nothing in them needs it), so
# that they run wherever they are copied: in an image, and in Nix's build
# sandbox, which has no /lib (the Nix library's tools-only form, tools =
# PREFIX).
CGO_ENABLED ?= 0
# Every Go module of the workspace (go.work), tested together.
PACKAGES := dockertools.dev/...
# -count=1: results depend on real components (Docker, Nix, a registry), which
# the test cache cannot see, so every run runs them.
TESTFLAGS ?= -count=1 -timeout 60m

.PHONY: all build test test-32bit test-cross demo bench fuzz clean install install-workflows

all: build

build:
	@mkdir -p $(BIN)
	@for t in $(TOOLS); do CGO_ENABLED=$(CGO_ENABLED) $(GO) build -trimpath -ldflags '-X dockertools.dev/imgkit/cli.version=$(VERSION)' -o $(BIN)/$$t ./$$t || exit 1; done
	@echo "built $(TOOLS) into bin/"

install: build install-workflows
	@for t in $(TOOLS); do install -m 0755 $(BIN)/$$t $(PREFIX)/bin/$$t || exit 1; done
	@echo "installed the tools and workflows into $(PREFIX)"

# The workflows only (the Nix library's build of the tools installs its
# own binaries).
install-workflows:
	@install -d $(PREFIX)/bin $(PREFIX)/libexec/dockertools/lib
	@for w in $(WORKFLOWS); do \
		install -m 0755 scripts/$$w $(PREFIX)/libexec/dockertools/$$w && \
		install -m 0755 scripts/lib/installed-wrapper.sh $(PREFIX)/bin/$$w || exit 1; \
	done
	@install -m 0644 scripts/lib/*.sh $(PREFIX)/libexec/dockertools/lib/

# Runs every module's tests. Tests that need Docker, a registry, Nix, skopeo,
# umoci, fakeroot or proot start them and skip with a SKIP line when they are
# missing (REQUIRE_REAL_CLIENTS=1 turns a missing one into a failure).
# First, the workspace is built for 32-bit machines (scripts/test-32bit),
# then for macOS and FreeBSD (scripts/test-cross).
test: build test-32bit test-cross
	@set -o pipefail; $(GO) test -json $(TESTFLAGS) $(PACKAGES) | $(GO) run ./testkit/cmd/testsum

# Vets every module for GOARCH=386 and arm, and runs imgkit's and
# popularity's unit tests, and tar-merge's and drv-env's tests of the
# largest ids, as 386 programs (on x86_64).
test-32bit:
	@GO=$(GO) sh scripts/test-32bit

# Vets every module but bench for darwin/arm64 and freebsd/amd64: a
# Linux-only call outside a _linux.go file fails it.
test-cross:
	@GO=$(GO) sh scripts/test-cross

demo: build
	@sh scripts/demo

bench: build
	@$(GO) run ./bench $(BENCHFLAGS)

# Runs every fuzz target (scripts/fuzz finds them) for FUZZTIME each, one
# at a time with one worker; FUZZ, a regular expression, picks some.
FUZZTIME ?= 10m
FUZZ ?= .
fuzz:
	@sh scripts/fuzz '$(FUZZTIME)' '$(FUZZ)'

clean:
	rm -rf $(BIN) build
