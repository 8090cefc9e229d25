# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs itself:
# a virtual environment in .venv with the project and its test and classroom extras, Debian's Chromium for
# the browser tests (Playwright drives /usr/bin/chromium; it never downloads a browser), and the hub's proxy
# from npm (package-lock.json) into node_modules/ for the classroom's hub test and `make hub`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_ARGS ?=

.PHONY: demo test lint lab serve hub chromium node benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,classroom]'
	@touch $(STAMP)

node:
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's nodejs and npm for the hub's proxy"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }

$(NODE_STAMP): package.json package-lock.json | node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(VENV)/bin/serverless-lab demo --out out

test: $(STAMP) $(NODE_STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

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

# A JupyterHub on 127.0.0.1:8000 for a trial class (docs/classroom.md): fixed users, one shared backend.
HUB_ARGS ?=
hub: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/serverless-lab hub $(HUB_ARGS)

benchmarks: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	-$(VENV)/bin/serverless-lab backend stop
	rm -rf out test-artifacts .pytest_cache
