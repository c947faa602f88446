# The README's two commands, `make demo` and `make test`, bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint generate montecarlo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lander demo

test: $(STAMP)
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python -m bench

# Every scenario flown 100 seeds (long: about a VM-second per flight, one VM per core).
montecarlo: $(STAMP)
	$(BIN)/python -m sil.montecarlo --runs 100

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check ground schemas sil hil bench tests
	$(BIN)/mypy

generate: $(STAMP)
	$(BIN)/python -m schemas.codegen

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
