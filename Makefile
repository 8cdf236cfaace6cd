# Build and test entry points; they work on a fresh Debian machine with python3.11 (root for apt-get).
#   make run   - install the project into .venv, index seeds/ and open the chat on http://127.0.0.1:7860
#                (another port: make run PORT=7861, or RAG_UI_PORT=7861 in the environment)
#   make test  - install the project and the test-only pieces (once), then run the whole test suite
# PYTEST_ARGS passes options through, e.g. make test PYTEST_ARGS="-m 'not slow' -x"

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMPS := $(VENV)/.stamps
PYTEST_ARGS ?=
# The chat's port: PORT=N on the command line, else $RAG_UI_PORT, else 7860. (A PORT variable that is
# merely in the environment, as some hosts set it, is not taken for ours.)
ifeq ($(origin PORT),command line)
UI_PORT := $(PORT)
else
UI_PORT := $(or $(RAG_UI_PORT),7860)
endif

# Test runs stay offline and quiet: no analytics or telemetry threads, no model-hub lookups, and
# OpenMP threads that sleep instead of spinning (they starve everything else on 2 cores).
TEST_ENV := OMP_WAIT_POLICY=passive GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False

.PHONY: help run port-free test venv install install-test test-extras

help:
	@echo "make run   - install into $(VENV), index seeds/ and open the chat on http://127.0.0.1:7860 (PORT=N for another)"
	@echo "make test  - install the project and test tools into $(VENV), then run the test suite"

# A usable venv: its python runs and is 3.11/3.12. Anything else (missing, broken symlinks from another
# machine, wrong version) is recreated from scratch; the stamps inside it go with it.
venv:
	@if ! $(PY) -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13) and sys.prefix != sys.base_prefix))' 2>/dev/null; then \
		test -n "$(PYTHON)" || { echo "error: python3.11 not found; install it (apt-get install python3 python3-venv)"; exit 1; }; \
		echo "==> creating the virtual environment $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv --clear $(VENV) || { bash scripts/system-deps.sh venv && $(PYTHON) -m venv --clear $(VENV); }; \
		$(PIP) install --quiet --upgrade "pip>=24"; \
	fi

# Stamps depend on pyproject.toml, so editing the pinned dependencies reinstalls; nothing else does.
$(STAMPS)/install: pyproject.toml | venv
	@echo "==> installing the project and its pinned dependencies (pip install -e .)"
	$(PIP) install --quiet -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: pyproject.toml | venv
	@echo "==> installing the project with its test dependencies (pip install -e '.[test]')"
	$(PIP) install --quiet -e '.[test]'
	@mkdir -p $(STAMPS) && touch $@ $(STAMPS)/install

install: $(STAMPS)/install

install-test: $(STAMPS)/install-test

# Heavy test-only pieces, each installed only when missing (checked by importing them, not by stamps,
# so an existing environment that already has them is reused as is).
test-extras: install-test
	@bash scripts/test-extras.sh $(PY)

run: port-free install
	@echo "==> indexing seeds/ and starting the chat on http://127.0.0.1:$(UI_PORT) (Ctrl-C to stop)"
	RAG_UI_PORT=$(UI_PORT) GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 \
		OMP_WAIT_POLICY=passive $(PY) -m ui --index seeds/

# Before installing anything (standard library only): a busy port costs a second, not minutes of setup.
port-free:
	@$(or $(PYTHON),python3) -m ui.ports 127.0.0.1 $(UI_PORT)

# pytest exits 5 when no test is collected (e.g. a -m filter that selects nothing): not a failure.
test: test-extras
	@echo "==> running the test suite: $(PY) -m pytest $(PYTEST_ARGS)"
	@rc=0; $(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "==> no tests collected (pytest exit code 5): treated as success"; exit 0; fi; \
	if [ $$rc -ne 0 ]; then echo "==> tests FAILED (pytest exit code $$rc)"; fi; \
	exit $$rc
