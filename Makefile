# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs itself:
# a virtual environment in .venv with the project and its test extras, and Debian's Chromium for the
# browser tests (Playwright drives /usr/bin/chromium; it never downloads a browser).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_ARGS ?=

.PHONY: demo test lint lab serve chromium benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(VENV)/bin/serverless-lab demo --out out

test: $(STAMP) chromium
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

benchmarks: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	-$(VENV)/bin/serverless-lab backend stop
	rm -rf out test-artifacts .pytest_cache
