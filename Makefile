# voiceguide: `make run` sets everything up and plays a routine; `make test` runs the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ROUTINE ?= sitting-foot
SOURCES := voiceguide tests tools

.PHONY: setup system-packages run test lint test-pythons bench clean

setup: system-packages $(VENV)/.installed

system-packages:
	@tools/install-system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,natural]'
	@touch $@

# Play the routine; on a machine with no sound card, export it to a file instead.
run: setup
	@$(BIN)/voiceguide play $(ROUTINE) || { status=$$?; [ $$status -eq 4 ] || exit $$status; \
	  $(BIN)/voiceguide export $(ROUTINE) -o $(ROUTINE).mp3 && echo "exported to $(ROUTINE).mp3"; }

lint: setup
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# The test suite on Python 3.12 and 3.13 too (simpleaudio-312compat), as CI runs it.
test-pythons: setup
	tools/test_pythons.sh

bench: setup
	$(BIN)/python tools/bench_core.py

clean:
	rm -rf $(VENV) .venv-3.* dist build .mypy_cache .ruff_cache
