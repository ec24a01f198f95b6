# Two entry points (see README): `make report` and `make test`.
# Everything is installed into .venv from PyPI; only python3 (>= 3.11) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test bench difftest fuzz serve wheel-check clean

# PYTHONWARNINGS: setuptools prints a notice on every editable install of a flat
# layout ("Editable installation. Please be careful with folders ... same name")
$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "symbolic_bp needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/symbolic-bp report derivations/

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

bench: $(STAMP)
	$(BIN)/python bench/bench_report.py
	$(BIN)/python bench/bench_report_parallel.py

# differential testing of the derivation against autograd: N random programs of the whole
# language, both checks on every 10th (tests/difftest.py); prints the figures
N ?= 2000
difftest: $(STAMP)
	$(BIN)/python -m tests.difftest --n $(N)

# hostile input at volume: at least FUZZ_INPUTS inputs for every entry point (check, step, network,
# report, latex, extract, the pytest plugin...), in two worker processes; prints the figures (README)
FUZZ_INPUTS ?= 10000
fuzz: $(STAMP)
	$(BIN)/symbolic-bp fuzz --inputs $(FUZZ_INPUTS) --jobs 2 --seed 0

# the web page and its JSON API on http://127.0.0.1:8765/ (README: On a web page); Ctrl-C stops
serve: $(STAMP)
	$(BIN)/symbolic-bp serve

# the package as pip installs it: build sdist and wheel (no warning), install the
# wheel into a fresh venv, run report and check from an empty folder (.ci/run calls it)
wheel-check: $(STAMP)
	bash .ci/wheel-check $(BIN)/python

clean:
	rm -rf $(VENV) build dist *.egg-info
