# Two commands do everything on a fresh machine (see README):
#   make demo   - set up .venv and run the Sheffield study (maps/ and reports/sheffield/)
#   make test   - set up .venv and run ruff, mypy and the tests (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test venv lint typecheck pytest bench clean browser-deps docs
.PHONY: lock postgis-deps qgis-deps test-deps
# Pinned versions of every dependency (dev extra included), generated from pyproject.toml.
LOCK   := requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/apgeo study --config studies/sheffield.toml

lint: $(STAMP)
	$(VENV)/bin/ruff check apgeo tests benchmarks scripts notebooks

typecheck: $(STAMP)
	$(VENV)/bin/mypy apgeo

# Headless Chromium for the real-browser map test (Debian packages). Skipped quietly
# where apt-get is unavailable or we are not root: the browser tests then skip with a reason.
browser-deps:
	@bash scripts/debian_test_deps.sh wait
	@bash scripts/debian_test_deps.sh now chromium chromium-driver

# Upgrade every pin to the newest versions pyproject.toml allows (commit the new lock).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --upgrade --quiet -o $(LOCK)

# A loopback PostgreSQL + PostGIS for the PostGIS tests (Debian packages; see the script).
# Where it cannot be installed or started the PostGIS tests skip with the reason.
postgis-deps:
	@bash scripts/debian_test_deps.sh wait
	@bash scripts/postgis_test_server.sh

# Every Debian package the tests use (chromium, PostgreSQL + PostGIS, QGIS's Python
# bindings), installed in the background while lint, types and docs run; see the script.
# `make test` starts it first; browser-deps and postgis-deps wait for their packages, the
# QGIS test (tests/test_gis.py) for QGIS. Nothing is installed without apt-get and root.
test-deps:
	@bash scripts/debian_test_deps.sh start

# QGIS's Python bindings alone (Debian python3-qgis, about 5.5 min to install) for the test
# that opens the study's GeoPackage in QGIS headless; without them that test skips with the reason.
qgis-deps:
	@bash scripts/debian_test_deps.sh now python3-qgis

pytest: $(STAMP) browser-deps postgis-deps
	$(VENV)/bin/pytest -n 2

# The API reference from the docstrings (mkdocs + mkdocstrings), warnings are errors;
# written to site/ (git-ignored), pages listed by scripts/gen_api_docs.py.
docs: $(STAMP)
	$(PY) scripts/gen_api_docs.py docs/api
	$(VENV)/bin/mkdocs build --strict --quiet

test: test-deps lint typecheck docs pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site docs/api
