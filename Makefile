# The commands a newcomer needs (see README.md):
#   make run    set up (idempotent) and start the kiosk on simulated devices
#   make test   set up (idempotent) and run the test suite
#   make check  set up (idempotent) and run the checkers: ruff (lint; full set and format on core, flows, platform, fleet) and mypy
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: run test check setup bench

setup:
	@VENV=$(VENV) bash scripts/setup.sh

run: setup
	$(VENV)/bin/kiosk run

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Configured in pyproject.toml ([tool.ruff], [tool.mypy]) and the ruff.toml of kiosk/core, flows, platform, fleet.
check: setup
	$(VENV)/bin/ruff check kiosk tests scripts bench
	$(VENV)/bin/ruff format --check kiosk/core kiosk/flows kiosk/platform kiosk/fleet
	$(VENV)/bin/mypy

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done
