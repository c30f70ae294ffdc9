# Every target creates or reuses .venv from requirements.lock; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The client recipes' Node packages (docs/clients.md), from clients/package-lock.json; skipped without npm.
NODE_STAMP := clients/node_modules/.installed
# The web client (web/, built into portal/web/client/ for `portal serve`): rebuilt only when its sources change.
WEB_STAMP := portal/web/client/.built
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/graphiql.html web/vite.config.ts web/tsconfig.json

.PHONY: demo test check bench serve lock clean web

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): clients/package.json clients/package-lock.json
	cd clients && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_STAMP): web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build
	touch $@

web: $(WEB_STAMP)

# Without npm the API still serves; the pages then answer 503 saying how to build them.
demo: $(STAMP) $(if $(shell command -v npm),web)
	$(BIN)/portal demo

serve: $(STAMP) $(if $(shell command -v npm),web)
	$(BIN)/portal serve

test: check $(if $(shell command -v npm),web $(NODE_STAMP))
	$(BIN)/python -m pytest -q

# The shape of the code: lint, imports pointing one way (import-linter), types (mypy).
check: $(STAMP)
	$(BIN)/ruff check .
	.ci/lint-imports
	.ci/typecheck

# BENCH=all (default), scenarios, scale, documents, events or profile (bench/run.py); PostGraphile comes from bench/package-lock.json.
BENCH ?= all
bench: $(STAMP) $(if $(shell command -v npm),bench/node_modules/.installed)
	$(BIN)/python bench/run.py $(BENCH)

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund
	touch $@

# Refresh the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) portal.db outbox
