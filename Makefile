# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo up test lint format lock clean bench

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(INSTALLED)

demo: install  ## onboard the template email end to end against the sandbox
	$(BIN)/hotspot-onboard demo

up: install  ## Prefect server + UI, a worker, the sandbox (and the watcher if configured)
	$(BIN)/hotspot-onboard up $(UP_ARGS)

test: install  ## every test, with the servers they need
	bash tests/servers/install_dovecot.sh
	bash tests/web/install_chromium.sh
	$(BIN)/pytest

bench: install  ## the benchmarks: one table (and .data/bench/results.json), under 15 minutes
	$(BIN)/python -m bench

# The packages the type checker reads (configured in pyproject.toml's [tool.mypy]).
TYPED := flows tasks parsers hotspot hotspot_sandbox store cli inbox web trust stack testing settings.py bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: install  ## re-pin every dependency after changing pyproject.toml
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache
