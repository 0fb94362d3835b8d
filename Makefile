# Keep — the two commands a new machine needs are `make demo` and `make test`.
# Every target bootstraps .venv itself; a second run reuses it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.keep-setup

.PHONY: setup test demo bench lint chaos soak clean

setup: $(STAMP)
	@$(BIN)/python -m keep_host.emu.firmware

$(STAMP): requirements.txt host_tools/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e host_tools
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest

demo: setup
	$(BIN)/keep demo

bench: setup
	$(BIN)/python bench/run.py

chaos: setup
	$(BIN)/python bench/chaos.py

soak: setup
	$(BIN)/python bench/soak.py --seconds $(or $(SECONDS),600)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
