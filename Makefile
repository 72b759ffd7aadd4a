# The two set-up-and-go commands: `make demo` (a full local demo) and `make test` (the whole suite).
# Each installs what it needs on a fresh machine and reinstalls nothing on a second run.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
LINT_VENV := .venv-lint
SLITHER_VERSION := 0.11.3
RUFF_VERSION := 0.8.6
SOLC_VERSION := $(shell node -p "require('./package.json').dependencies.solc" 2>/dev/null)
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
BROWNIE := $(VENV)/bin/brownie

.PHONY: all setup libgomp demo test test-only test-browser web chromium browser-deps lint format compile artifacts bench fuzz clean

all: test

# --- installation (stamp files make a second run a no-op) -----------------------------------
$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

$(LINT_VENV)/.installed:
	@test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet slither-analyzer==$(SLITHER_VERSION)
	@touch $@

$(LINT_VENV)/.ruff-$(RUFF_VERSION): $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/pip install --quiet ruff==$(RUFF_VERSION)
	@touch $@

# py-solc-x cannot download solc here; register the npm (wasm) compiler as ~/.solcx/solc-v<version>.
solc: node_modules/.installed
	@bash tools/setup-solc.sh

# LightGBM (backing grid) needs the OpenMP runtime: Debian's libgomp1, installed when the machine lacks it.
libgomp:
	@ldconfig -p | grep -q libgomp.so.1 || (apt-get update -qq && apt-get install -y -qq libgomp1)

setup: $(VENV)/.installed node_modules/.installed solc libgomp web

# The web app's page (`backing web`): web/src bundled by esbuild (viem, uPlot; pinned in package-lock.json) into
# backing/web/static/, where the Python package serves it from.
WEB_BUNDLE := backing/web/static/app.js
web: $(WEB_BUNDLE)
$(WEB_BUNDLE): node_modules/.installed $(wildcard web/src/*)
	node_modules/.bin/esbuild web/src/main.js --bundle --minify --format=esm --target=es2020 \
	  --outdir=backing/web/static --entry-names=app --log-level=warning

# The browser tests' tools: Playwright for Python (the `browser-tests` extra) drives Debian's chromium
# (Playwright's own browser download is not possible here); apt installs chromium only when it is missing.
$(VENV)/.browser-tests: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/pip install --quiet -e '.[browser-tests]'
	@touch $@

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

browser-deps: $(VENV)/.browser-tests chromium web

compile: setup
	$(BROWNIE) compile

# Copy the ABIs and bytecode the chain commands ship with (backing/client/artifacts/, committed) from build/.
artifacts: compile
	$(VENV)/bin/python tools/ship_artifacts.py

# --- the two commands -------------------------------------------------------------------------
# The demo: the whole story through the `backing` commands a user types (tools/demo.py: it starts ganache on
# DEMO_PORT, makes everyone a keystore, then deploys, registers a model, runs an agreement and a series to the last
# claim with the oracle operator posting rounds and a watcher disputing a wrong one; every amount printed checked
# against the reference model to the wei), then the example scenarios through `backing simulate` (each checked
# the same way; results and plots in build/simulate/), and one scenario the contracts must refuse, with its reason
# in plain words. `backing simulate` starts its own ganache on a free port; `make demo DEMO_PORT=<port>` when
# another node holds 8545 (DEMO_NODE=anvil plays the story on anvil).
SCENARIOS := seed-gain-repaid seed-loss-repaid seed-loss-default realistic-series series-rollover
DEMO_PORT ?= 8545
DEMO_NODE ?= ganache
demo: compile
	$(VENV)/bin/python tools/demo.py --node $(DEMO_NODE) --port $(DEMO_PORT)
	@set -e; for s in $(SCENARIOS); do \
	  $(VENV)/bin/backing simulate examples/scenarios/$$s.yaml --node ganache \
	    --json build/simulate/$$s.json --plot build/simulate/$$s; done
	@echo "> A scenario the contracts must refuse:"
	@$(VENV)/bin/backing simulate examples/scenarios/reserve-too-small.yaml --node ganache >/dev/null \
	  || test $$? -eq 2

test: compile lint test-only

# The on-chain suite runs on anvil (about 4x faster); the stateful tests stay on ganache, the node the demo uses.
# The stateful machines (one ganache, port 8545) run beside the rest (their own nodes: anvil on 8546, the CLI
# tests' from 8792) so that both cores work; their output follows at the end, and either part failing fails.
test-only: setup browser-deps
	@mkdir -p build
	@$(BROWNIE) test tests/chain/stateful --network ganache-cli > build/stateful.log 2>&1 & stateful=$$!; \
	  status=0; \
	  $(VENV)/bin/python -m pytest -o addopts="" -p no:pytest-brownie tests/unit -q \
	  && $(VENV)/bin/python -m pytest -o addopts="" -p no:pytest-brownie tests/cli -q \
	  && $(VENV)/bin/python -m pytest -o addopts="" -p no:pytest-brownie tests/browser -q \
	  && $(BROWNIE) test tests/chain --network anvil --ignore tests/chain/stateful || status=$$?; \
	  wait $$stateful || status=$$((status ? status : $$?)); \
	  echo "> tests/chain/stateful (ganache):"; cat build/stateful.log; exit $$status

# The web app in headless chromium against a local anvil with the real contracts (screenshots in docs/img/).
test-browser: setup browser-deps
	$(VENV)/bin/python -m pytest -o addopts="" -p no:pytest-brownie tests/browser -q

# ruff over the Python code (rules in pyproject.toml; `ruff format --check`: run `make format` to fix), every deployable contract's runtime size against 20,000
# bytes (tools/contract_sizes.py), then Slither over contracts/: fails on any High or Medium finding (accepted
# ones are suppressed in-line).
lint: compile $(LINT_VENV)/.installed $(LINT_VENV)/.ruff-$(RUFF_VERSION)
	$(LINT_VENV)/bin/ruff check backing oracle tests tools scripts
	$(LINT_VENV)/bin/ruff format --check backing oracle tests tools scripts
	$(VENV)/bin/python tools/contract_sizes.py
	$(LINT_VENV)/bin/python tools/lint.py --slither $(LINT_VENV)/bin/slither --solc $(HOME)/.solcx/solc-v$(SOLC_VERSION)

# Rewrite the Python code in the project's format (what `make lint` checks).
format: $(LINT_VENV)/.ruff-$(RUFF_VERSION)
	$(LINT_VENV)/bin/ruff format backing oracle tests tools scripts

# Long fuzzing: the stateful machines with BACKING_FUZZ_SCALE times their examples (>= 10,000 steps at the
# default); the figures go to bench/fuzz.md (commit them with the change they measured).
FUZZ_SCALE ?= 8
fuzz: compile
	@rm -f build/fuzz.jsonl
	BACKING_FUZZ_SCALE=$(FUZZ_SCALE) BACKING_FUZZ_REPORT=$(CURDIR)/build/fuzz.jsonl /usr/bin/time -v -o build/fuzz-time.txt \
	  $(BROWNIE) test tests/chain/stateful --network ganache-cli -p no:warnings
	$(VENV)/bin/python tools/fuzz_report.py build/fuzz.jsonl build/fuzz-time.txt $(FUZZ_SCALE) > bench/fuzz.md
	@cat bench/fuzz.md

bench: compile
	$(BROWNIE) run scripts/bench.py --network ganache-cli

clean:
	rm -rf build reports .hypothesis
