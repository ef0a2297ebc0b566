# One command for the demo, one for the tests (see README). Everything installs itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint fmt install mariadb clean bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

mariadb:
	./scripts/ensure-mariadb.sh

## demo: private MariaDB, sample owner, full load + delta run into ./lake
demo: install mariadb
	$(BIN)/python -m dersonlake demo

## test: lint and the whole test-suite against a real MariaDB started by the suite
test: install mariadb
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

## bench: full load next to dlt and the client/library floors (see docs/benchmarks.md)
bench: install mariadb
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/full_load.py --rows 1000000

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: install
	$(BIN)/ruff format src tests bench

clean:
	-$(BIN)/python -m dersonlake sandbox stop
	rm -rf .derson lake
