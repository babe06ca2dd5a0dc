# The two commands a newcomer needs (see README.md):
#   make run    set up (idempotent) and start the kiosk on simulated devices
#   make test   set up (idempotent) and run the test suite
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: run test setup bench

setup:
	@VENV=$(VENV) bash scripts/setup.sh

run: setup
	$(VENV)/bin/kiosk run

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done
