# The README's two commands, `make demo` and `make test`, bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM ?= npm
SILICON := sil/silicon/node_modules/.package-lock.json

.PHONY: demo test bench lint generate clean silicon

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The silicon board's RP2040 emulator (npm rp2040js, pinned by package-lock.json). Without
# node and npm the silicon tests are skipped, and say so.
$(SILICON): sil/silicon/package.json sil/silicon/package-lock.json
	@if command -v node >/dev/null && command -v $(NPM) >/dev/null; then \
		$(NPM) ci --prefix sil/silicon --no-audit --no-fund --loglevel=error; \
	else \
		echo "node/npm not found: the silicon board is not installed (its tests are skipped)"; \
	fi

silicon: $(SILICON)

demo: $(STAMP)
	$(BIN)/lander demo

test: $(STAMP) silicon
	$(BIN)/pytest -q -n 2

bench: $(STAMP) silicon
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check ground schemas sil hil bench tests
	$(BIN)/mypy

generate: $(STAMP)
	$(BIN)/python -m schemas.codegen

clean:
	rm -rf $(VENV) sil/silicon/node_modules build *.egg-info .pytest_cache .hypothesis
