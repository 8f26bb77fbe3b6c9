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

.PHONY: run venv system-deps check format format-check lint types test soak bench clean

run: venv system-deps
	$(BIN)/tuxhook dev

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# Debian packages the tests drive: a real redis-server, docker-compose to validate the stack, and
# caddy to read the TLS proxy's Caddyfile as Caddy does (its package starts a service on port 80
# where systemd runs: the tests need only the binary, so the service is stopped at once).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v caddy >/dev/null || missing="$$missing caddy"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  case "$$missing" in *caddy*) \
	    ! command -v systemctl >/dev/null || $(SUDO) systemctl disable --now caddy >/dev/null 2>&1 || true;; \
	  esac; \
	fi

# Everything CI runs: format, lint, types, the tests, then the bounded soak variants.
check: venv system-deps format-check lint types test soak

format:
	$(BIN)/ruff format .

format-check: venv
	$(BIN)/ruff format --check .

lint: venv
	$(BIN)/ruff check .

types: venv
	$(BIN)/mypy

test: venv system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The long fault variants (tests marked soak, production timings), which print what they
# measured (-rP); each is bounded by its own waits and by pytest's per-test timeout, and the
# whole run by SOAK_TIMEOUT seconds.
SOAK_TIMEOUT ?= 900
soak: venv system-deps
	timeout $(SOAK_TIMEOUT) $(BIN)/pytest -m soak -raP $(PYTEST_ARGS)

bench: venv system-deps
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
