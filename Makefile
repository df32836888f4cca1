# Kesher: `make run` starts it on the embedded defaults; `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint layers typecheck unit bench install clean messages tools screenshots

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kesher run --port $(PORT) --demo-if-empty

lint: $(STAMP)
	$(BIN)/ruff check kesher config $(wildcard benchmarks)
	$(BIN)/ruff format --check kesher config $(wildcard benchmarks)

# The floors, no import circles, no module over 1,000 lines (docs/architecture.md); first, as it takes seconds.
layers: $(STAMP)
	$(BIN)/pytest -q kesher/tests/test_architecture.py

typecheck: $(STAMP)
	$(BIN)/mypy kesher config

messages: $(STAMP)
	cd kesher && ../$(BIN)/django-admin compilemessages --ignore=.venv

# The page checkers (the Nu HTML checker and axe-core), pinned in tools/package-lock.json.
TOOLS := tools/node_modules/vnu-jar/build/dist/vnu.jar tools/node_modules/axe-core/axe.min.js
$(TOOLS): tools/package.json tools/package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --prefix tools
	@touch $(TOOLS)

tools: $(TOOLS)

# docs/screenshots/: every page of the role table, both languages, desktop and phone width.
screenshots: $(STAMP)
	$(BIN)/pytest -q -p no:randomly kesher/web/tests/shoot_pages.py

unit: $(STAMP) $(TOOLS)
	$(BIN)/pytest
	@if [ -n "$$KESHER_TEST_DATABASE_URL" ]; then \
	  echo "== the whole suite again on $$KESHER_TEST_DATABASE_URL =="; \
	  KESHER_DATABASE_URL="$$KESHER_TEST_DATABASE_URL" $(BIN)/pytest; \
	fi

test: lint layers typecheck unit

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1; } || \
	  echo "wrk is not installed: the slower Python load client is used"
	$(BIN)/python -m benchmarks.parts

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
