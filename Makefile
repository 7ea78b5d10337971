# The two commands of the README: `make demo` (set up + run the dashboard), `make test` (set up + run the tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: demo run test setup setup-test system-packages lint bench

# pip is not --quiet here: on a first run it takes a minute or two, and silence looks like a hang.
$(VENV)/.installed: requirements.txt
	@echo "Setting up $(VENV) (first run installs packages, ~1-2 min)..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -r requirements.txt
	@touch $@
	@echo "$(VENV) is ready."

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test system-packages

# Debian packages the tests run for real (they never download a browser or a database):
# Chromium and its driver for the browser tests, PostgreSQL 15's server for the postgres check tests,
# Prometheus's promtool for the alert-rule test, openssl for the HTTPS check tests' certificates.
system-packages:
	@PKGS=""; \
	if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then PKGS="chromium chromium-driver"; fi; \
	if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then PKGS="$$PKGS postgresql"; fi; \
	if ! command -v promtool >/dev/null; then PKGS="$$PKGS prometheus"; fi; \
	if ! command -v openssl >/dev/null; then PKGS="$$PKGS openssl"; fi; \
	if [ -n "$$PKGS" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$PKGS; \
	fi

# The demo keeps its history and recovery log in data/demo/, apart from `make run`'s data/.
demo: setup
	$(PY) -m dash_app --demo $(ARGS)

run: setup
	$(PY) -m dash_app $(ARGS)

test: setup-test
	$(PY) -m ruff check .
	$(PY) -m pytest $(ARGS)

bench: setup
	$(PY) bench/run_all.py
