# Two commands do everything on a fresh machine (see README):
#   make demo   - set up .venv and run the Sheffield study (maps/ and reports/sheffield/)
#   make test   - set up .venv and run ruff, mypy and the tests (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test venv lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/apgeo study --config studies/sheffield.toml

lint: $(STAMP)
	$(VENV)/bin/ruff check apgeo tests benchmarks scripts notebooks

typecheck: $(STAMP)
	$(VENV)/bin/mypy apgeo

pytest: $(STAMP)
	$(VENV)/bin/pytest -n 2

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
