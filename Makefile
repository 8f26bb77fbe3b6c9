# One entry point for people and CI: `make run` starts tuxhook, `make check` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# PostgreSQL for the storage tests; each run creates and drops its own database there.
export TEST_POSTGRES_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test

# The locks (docs/dependencies.md): what the image runs, and that plus the tools, which the venv,
# and so CI, installs. `make lock` regenerates them from pyproject.toml with uv.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
DASHBOARD_LOCK := requirements/dashboard.txt
UV_VERSION := 0.13.10
LOCK_ARGS ?=

.PHONY: run venv system-deps lock check format format-check lint types test coverage soak \
	bench clean

run: venv system-deps
	$(BIN)/tuxhook dev

venv: $(STAMP)

# Exactly the locked versions, each checked against its hash, in a venv made anew whenever the
# lock changes (so that nothing it no longer lists stays); then tuxhook itself, editable.
LOCKED := $(VENV)/.locked
$(LOCKED): $(DEV_LOCK)
	if [ -f $(VENV)/pyvenv.cfg ]; then rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r $(DEV_LOCK)
	touch $@

$(STAMP): $(LOCKED) pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# Debian packages the tests drive: a real redis-server, docker-compose to validate the stack,
# caddy to read the TLS proxy's Caddyfile as Caddy does (its package starts a service on port 80
# where systemd runs: the tests need only the binary, so the service is stopped at once), and
# chromium with its chromedriver, the browser the pages' tests drive through Selenium.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v caddy >/dev/null || missing="$$missing caddy"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  case "$$missing" in *caddy*) \
	    ! command -v systemctl >/dev/null || $(SUDO) systemctl disable --now caddy >/dev/null 2>&1 || true;; \
	  esac; \
	fi

# Resolves pyproject.toml's ranges for Python 3.11 on every platform, keeping each version the
# locks already hold unless a range excludes it: `make lock LOCK_ARGS=--upgrade` upgrades
# everything, LOCK_ARGS='--upgrade-package aiohttp' one package. The dev and dashboard locks are
# constrained by the runtime lock, so that all three agree on what they share.
UV := $(BIN)/uv
COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

lock: $(UV)
	$(COMPILE) pyproject.toml -o $(RUNTIME_LOCK)
	$(COMPILE) pyproject.toml --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK)
	$(COMPILE) requirements/dashboard.in -c $(RUNTIME_LOCK) -o $(DASHBOARD_LOCK)

# Everything CI runs, each part timed: format, lint, types, the tests with their coverage
# floor, then the bounded soak variants.
check:
	@MAKE='$(MAKE)' .ci/parts venv system-deps format-check lint types test coverage soak

format:
	$(BIN)/ruff format .

format-check: venv
	$(BIN)/ruff format --check .

lint: venv
	$(BIN)/ruff check .

types: venv
	$(BIN)/mypy

# Under coverage, the processes the tests start included ([tool.coverage.run] in pyproject),
# with one data file name for all of them, wherever their working directory. The suite mostly
# waits for the processes it starts, so pytest-xdist runs it in PYTEST_PROCESSES processes,
# the fault tests one at a time in one of them (tests/conftest.py); 0 runs it in this one.
PYTEST_PROCESSES ?= 2
test coverage: export COVERAGE_FILE := $(CURDIR)/.coverage
test: venv system-deps
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -n $(PYTEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

# The branch coverage of the last `make test`, all processes combined; fails under the floor.
coverage: venv
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# The long fault variants (tests marked soak, production timings), which print what they
# measured (-rP), one at a time; beside them, the property tests again, with ten times the
# examples from a random seed (tests/support/properties.py). Each test is bounded by its own
# waits and by pytest's per-test timeout, and the whole run by SOAK_TIMEOUT seconds.
SOAK_TIMEOUT ?= 900
soak: venv system-deps
	timeout $(SOAK_TIMEOUT) $(BIN)/pytest -m 'soak or hypothesis' --hypothesis-profile=soak \
		-n 2 --dist loadgroup -raP $(PYTEST_ARGS)

bench: venv system-deps
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .coverage .coverage.*
