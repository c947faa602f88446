# The README's two commands, `make demo` and `make test`, bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM ?= npm
SILICON := sil/silicon/node_modules/.package-lock.json

.PHONY: demo test bench lint generate montecarlo clean silicon silicon-descent

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

# The nominal descent flown end to end on an emulated Pico, against the unix port's flight
# (long: from some 15 minutes to over an hour of wall time, so not part of `make test`).
silicon-descent: $(STAMP) silicon
	LANDER_SILICON_DESCENT=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_silicon_descent.py

# Every scenario flown 100 seeds (long: about a VM-second per flight, one VM per core).
montecarlo: $(STAMP)
	$(BIN)/python -m sil.montecarlo --runs 100

# MicroPython's stubs for the boards the firmware runs on (v1.28, as the silicon board's image).
# Each board's go to a folder of their own: they are the same module names, and their stdlib
# replaces CPython's typeshed when the firmware is checked (mypy-rp2.ini).
RP2_STUBS := build/stubs
RP2_STUBS_VERSION := 1.28.0.post4
$(RP2_STUBS)/%/.installed:
	$(BIN)/pip install --quiet --no-deps --target $(RP2_STUBS)/$* \
		micropython-rp2-rpi-$*-stubs==$(RP2_STUBS_VERSION) "micropython-stdlib-stubs>=1.28.0,<1.29.0"
	touch $@

lint: $(STAMP) $(RP2_STUBS)/pico/.installed $(RP2_STUBS)/pico-w/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check ground schemas sil hil bench tests
	$(BIN)/mypy
	for board in pico pico-w; do \
		MYPYPATH=$(RP2_STUBS)/$$board $(BIN)/mypy --config-file mypy-rp2.ini \
			--custom-typeshed-dir $(RP2_STUBS)/$$board firmware/*.py || exit 1; \
	done

generate: $(STAMP)
	$(BIN)/python -m schemas.codegen

clean:
	rm -rf $(VENV) sil/silicon/node_modules build *.egg-info .pytest_cache .hypothesis
