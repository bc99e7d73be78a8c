# GradWatch: `make run` serves the dashboard, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
NODE_DEPS := node_modules/.package-lock.json

.PHONY: setup run test test-extended bench lint clean docs screenshots

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(BIN)/python -m server

# node_modules/ too: the browser tests run axe-core (pinned in package.json) against the page.
test: setup $(NODE_DEPS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests `make test` leaves out (marker `extended`, pyproject.toml): CI runs these too.
test-extended: setup $(NODE_DEPS)
	$(BIN)/python -m pytest -m extended $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m benchmarks

# ruff, then the page: ESLint, and TypeScript's check against the generated contract.js.
lint: setup $(NODE_DEPS)
	$(BIN)/ruff check server trainer tests benchmarks tools
	mkdir -p build/contract
	$(BIN)/python -m trainer.contract.pagecontract > build/contract/contract.js
	npx --no-install eslint frontend eslint.config.js
	npx --no-install tsc -p tsconfig.json

# The page's lint and test tools, pinned by package-lock.json (node_modules/ is not in git).
$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf $(VENV) .pytest_cache node_modules build/contract

docs: setup
	$(BIN)/python tools/update_doc.py docs/remedies.md REMEDIES-TABLE $(BIN)/python -m tools.remedies_table
	$(BIN)/python tools/update_doc.py docs/diagnosis.md DIAGNOSIS-CASES $(BIN)/python -m tools.diagnosis_cases --markdown

# The README's PNGs in docs/, re-taken: a real server and real runs, driven in Chromium.
screenshots: setup
	$(BIN)/python -m tools.screenshots
