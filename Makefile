# Stockwire developer commands. Only python3 is needed: devstack/bin/uv installs uv when
# it is missing, and every target that runs code first syncs .venv with uv.lock.

UV := devstack/bin/uv
RUN := $(UV) run --no-sync
BENCHES := $(patsubst bench/bench_%.py,%,$(wildcard bench/bench_*.py))

# make up ARGS="--broker-port 19092 --state-dir /tmp/sw"; make test PYTEST_ARGS="-m 'not slow'"
ARGS ?=
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help sync up test lint typecheck format bench $(addprefix bench-,$(BENCHES)) asyncapi clean

help:
	@echo "make up          broker, database and every service on this machine, until Ctrl-C"
	@echo "make test        lint, typecheck, then the whole test suite (PYTEST_ARGS=... narrows it)"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make typecheck   mypy, strict, over every package (tests/ excepted)"
	@echo "make format      ruff format and the safe ruff fixes"
	@echo "make bench       every bench/bench_*.py; make bench-NAME runs bench/bench_NAME.py"
	@echo "make asyncapi    regenerate the AsyncAPI document of the topics"
	@echo "make clean       remove logs, the local database, test leftovers and caches"
	@echo "See docs/running.md."

sync:
	$(UV) sync --frozen --all-packages

up: sync
	$(RUN) python -m stockwire.devstack up $(ARGS)

# The static checks run first: they take seconds, the suite takes minutes.
test: sync lint typecheck
	$(RUN) pytest $(PYTEST_ARGS)

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: sync
	$(RUN) mypy

format: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

bench: sync
	@test -n "$(BENCHES)" || { echo "no bench/bench_*.py yet" >&2; exit 1; }
	@set -e; for name in $(BENCHES); do \
		echo "==> bench/bench_$$name.py"; \
		$(RUN) python bench/bench_$$name.py; \
	done

$(addprefix bench-,$(BENCHES)): bench-%: sync
	$(RUN) python bench/bench_$*.py

asyncapi: sync
	$(RUN) python -m stockwire.contracts.asyncapi

clean:
	devstack/bin/clean
