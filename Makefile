# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs itself:
# a virtual environment in .venv with the project and its test and classroom extras, Debian's Chromium for
# the browser tests (Playwright drives /usr/bin/chromium; it never downloads a browser), the browser
# tests' JavaScript (tests/browser/js: `npm ci` from its package-lock.json into its node_modules/), and the
# hub's proxy (`npm ci` from the project's package-lock.json into node_modules/, for the hub test and
# `make hub`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HUB_PROXY := serverless_lab/classroom/proxy
NODE_STAMP := $(HUB_PROXY)/node_modules/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_ARGS ?=

BROWSER_JS := tests/browser/js
BROWSER_JS_STAMP := $(BROWSER_JS)/node_modules/.installed
# The lowest moto the project accepts, read from pyproject.toml (`make test-moto-lowest` tests it).
MOTO_LOWEST := $(shell sed -n 's/.*"moto\[server\]>=\([0-9.]*\),.*/\1/p' pyproject.toml)
LOWEST_VENV := .venv-moto-lowest

.PHONY: demo test test-moto-lowest lint lab serve hub course chromium node benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,classroom]'
	@touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

node:
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's nodejs and npm for the browser tests' JavaScript and the hub's proxy"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }

$(BROWSER_JS_STAMP): $(BROWSER_JS)/package.json $(BROWSER_JS)/package-lock.json
	$(MAKE) node
	cd $(BROWSER_JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(NODE_STAMP): $(HUB_PROXY)/package.json $(HUB_PROXY)/package-lock.json
	$(MAKE) node
	cd $(HUB_PROXY) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/serverless-lab demo --out out

test: $(STAMP) chromium $(BROWSER_JS_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The lowest moto in the declared range, in a venv of its own: the tests that deploy the whole stack on
# moto and those of the lab's moto mends (CI runs the highest, with `make test`).
test-moto-lowest:
	@test -x $(LOWEST_VENV)/bin/python || $(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 'moto[server]==$(MOTO_LOWEST)'
	$(LOWEST_VENV)/bin/python -c 'import moto; assert moto.__version__ == "$(MOTO_LOWEST)", moto.__version__'
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider -m 'not browser and not notebooks' \
	  tests/test_lab.py tests/steps tests/backends tests/dataplane/cognito tests/dataplane/test_dataplane_service.py

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lab: $(STAMP)
	$(VENV)/bin/serverless-lab backend start
	cd notebooks && ../$(VENV)/bin/jupyter lab --ip 127.0.0.1 --no-browser $(ALLOW_ROOT) \
	  --LabApp.news_url=None \
	  --LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate \
	  --LabApp.extension_manager=readonly \
	  --LabApp.app_settings_dir=$(CURDIR)/notebooks/.lab-settings

serve: $(STAMP)
	$(VENV)/bin/serverless-lab serve

# The course as an nbgrader course (notebooks/classroom.md): out/course/source/<notebook>/, nbgrader_config.py.
course: $(STAMP)
	$(VENV)/bin/serverless-lab course export out/course

# A JupyterHub on 127.0.0.1:8000 for a trial class (notebooks/classroom.md): fixed users, one shared backend.
HUB_ARGS ?=
hub: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/serverless-lab hub $(HUB_ARGS)

benchmarks: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	-$(VENV)/bin/serverless-lab backend stop
	rm -rf out test-artifacts .pytest_cache $(LOWEST_VENV)
