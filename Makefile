# Keep — the two commands a new machine needs are `make demo` and `make test`.
# Every target bootstraps .venv itself; a second run reuses it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.keep-setup
NODE_STAMP := node_modules/.keep-setup

.PHONY: setup test demo bench lint chaos soak tradeoff clean farm abi

setup: $(STAMP) $(NODE_STAMP)
	@$(BIN)/python -m keep_host.emu.firmware

# The emulated Pico (rp2040js, pinned by package-lock.json) needs Node.js >= 18.
# Without it the Pico tier says so in one line and is skipped; the stamp is
# left unmade so the next setup looks again.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "keep: Node.js not found: the emulated Pico tier is skipped (install Node.js >= 18, then make setup)"; \
	fi

$(STAMP): requirements.txt host_tools/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e host_tools
	@touch $(STAMP)

# labgrid for `--port labgrid:PLACE` (docs/hil.md), in a venv of its own: it
# needs pyserial-labgrid, which replaces pyserial's `serial` package. Keep's
# .venv never imports labgrid; it runs .venv-farm's python for it.
FARM       := .venv-farm
FARM_STAMP := $(FARM)/.keep-farm

farm: $(FARM_STAMP)

$(FARM_STAMP): requirements-farm.txt
	@test -x $(FARM)/bin/python || $(PYTHON) -m venv $(FARM)
	$(FARM)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-farm.txt
	@touch $@

test: setup
	$(BIN)/python -m pytest

demo: setup
	$(BIN)/keep demo

bench: setup
	$(BIN)/python bench/run.py

chaos: setup
	$(BIN)/python bench/chaos.py

# Keep against its monolithic build: cost, faults, trusted core, both targets;
# bench/results.json keys and docs/tradeoff.md (bench/tradeoff.py).
tradeoff: setup
	$(BIN)/python bench/tradeoff.py

soak: setup
	$(BIN)/python bench/soak.py --seconds $(or $(SECONDS),600)

lint: setup
	$(BIN)/ruff check .

# Every copy of an ABI or protocol number, from its one source: firmware/
# keep/abi.py and protocols/*.toml -> the firmware modules' generated const
# blocks, keep/abinames.py, keep/faultnames.py and the docs' tables
# (docs/abi.md; tests/host/test_abi_consistency.py fails when out of date).
abi: setup
	$(BIN)/python -m keep_host.abigen

# docs/getting-started.md from docs/getting-started.in.md and a real run of
# the commands it shows (docs/getting_started.py; PICO=1 also runs the
# emulated Pico's demo, minutes). tests/host/test_getting_started.py fails
# when the guide drifts from what the commands print.
.PHONY: docs
docs: setup
	$(BIN)/python docs/getting_started.py $(if $(PICO),--pico)

# The docs' pictures of the monitor, a Perfetto timeline and a VCD waveform,
# from a fresh 10 s run of the chaos demo (docs/img/make_pictures.py).
.PHONY: pictures
pictures: setup
	$(BIN)/python docs/img/make_pictures.py

clean:
	rm -rf $(VENV) $(FARM) node_modules .pytest_cache .ruff_cache
