# ledgerdesk: `make run` serves on http://127.0.0.1:8000; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
ADMIN_EMAIL ?= admin@ledgerdesk.local
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,msproject]"
	rm -f $(VENV)/.installed-* && touch $@

# The customer pages' catalogues, compiled from api/translations/*/LC_MESSAGES/messages.po.
MO := $(patsubst %.po,%.mo,$(wildcard api/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing a page's text: extract it, and add new strings to every catalogue.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o api/translations/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i api/translations/messages.pot -d api/translations --ignore-obsolete --no-fuzzy-matching

run: $(STAMP) $(MO)
	$(BIN)/ledgerdesk init --admin-email $(ADMIN_EMAIL)
	$(BIN)/ledgerdesk serve

lint: $(STAMP) $(MO)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
