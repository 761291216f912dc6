# The two commands of the README: `make run` and `make test`. Each sets everything up itself on a
# fresh machine: the service venv (.venv), brownie's venv (.venv-brownie), `npm ci`, and the solc-js
# wrapper registered with py-solc-x.
PYTHON ?= python3
VENV := .venv
BVENV := .venv-brownie
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup run test test-all lint bench compile check-artifact brownie-setup system-deps clean

setup: $(VENV)/.installed node_modules/.installed build/bin/solc

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build/bin/solc: tools/solc.in tools/toolchain.py brownie-config.yaml $(VENV)/.installed node_modules/.installed
	$(PY) -m tools.toolchain install

# tools/brownie_paths.py, run at the start of every Python of brownie's venv, keeps brownie's
# data folder (.brownie-home/.brownie, or $ANCHOR_BROWNIE_HOME/.brownie) and py-solc-x's folder
# (build/solcx) inside this checkout, and lets `brownie run` import scripts from a checkout whose
# path has a dot in a folder name (brownie derives a module name from the absolute path).
$(BVENV)/.installed: tools/brownie_paths.py Makefile
	test -x $(BVENV)/bin/python || $(PYTHON) -m venv $(BVENV)
	$(BVENV)/bin/pip install --quiet --upgrade pip
	$(BVENV)/bin/pip install --quiet 'eth-brownie==1.22.2' 'safe-pysha3>=1.0.4'
	site=$$($(BVENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  cp tools/brownie_paths.py "$$site/anchor_brownie_paths.py" && \
	  echo "import anchor_brownie_paths; anchor_brownie_paths.install('$(CURDIR)')" > "$$site/anchor_brownie_paths.pth"
	touch $@

brownie-setup: setup $(BVENV)/.installed
	$(BVENV)/bin/python scripts/setup_networks.py
	cd $(CURDIR) && $(BVENV)/bin/brownie compile >/dev/null

# Debian packages the browser, QR and poster tests drive: headless Chromium, zbarimg, pdftoppm
# and pdftotext (poppler-utils), and the poster's embedded font (fonts-dejavu-core).
SYSTEM_DEPS := chromium zbar-tools poppler-utils fonts-dejavu-core
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v zbarimg >/dev/null \
	  || ! command -v pdftoppm >/dev/null || ! test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SYSTEM_DEPS); \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $(SYSTEM_DEPS); fi; \
	fi

## run: the embedded default stack: SQLite, a local anvil chain, the registry deployed on it.
run: setup
	$(VENV)/bin/anchor up

## test: everything the tests need, then the suite (slow load and fault tests excluded).
test: setup brownie-setup system-deps
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

test-all: setup brownie-setup system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## lint: ruff (lint and format), mypy strict, the layout contracts (import-linter), dead code (vulture)
lint: setup
	$(VENV)/bin/ruff check anchor api tests bench tools scripts
	$(VENV)/bin/ruff format --check anchor api tests bench tools scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/vulture

bench: setup
	$(PY) bench/bench_merkle.py --sizes 10000,100000,1000000

compile: setup
	$(PY) -m tools.toolchain compile

check-artifact: setup
	$(PY) -m tools.toolchain check

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
