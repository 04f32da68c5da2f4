# Everything a contributor needs; each target installs what it uses first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install test fuzz-fix lint fmt bench demo docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)  ## the whole suite on a real PostgreSQL (embedded unless SCHEMALOCK_TEST_DATABASE_URL)
	$(BIN)/python -m pytest

# fix --apply on generated (old, new) schema pairs: PAIRS of them from seed START; every failure
# prints its seed and both scripts, and a table of outcomes by class ends the run.
PAIRS ?= 2000
START ?= 0
fuzz-fix: $(STAMP)  ## thousands of generated schema pairs through fix --apply (PAIRS=2000 START=0)
	SCHEMALOCK_FUZZ_PAIRS=$(PAIRS) SCHEMALOCK_FUZZ_START=$(START) $(BIN)/python -m pytest -q \
		-p no:cacheprovider tests/test_fix_generated_pairs.py -k converges --tb=short

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)  ## figures to bench/RESULTS.md
	$(BIN)/python bench/run.py

demo: $(STAMP)  ## the whole story on an embedded PostgreSQL
	$(BIN)/schemalock demo

docs: $(STAMP)  ## regenerate the committed generated files
	$(BIN)/schemalock rules --format markdown > docs/rules.md
	$(BIN)/schemalock schema --output schema_lock.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
