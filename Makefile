# Ripple: `make run` starts the local stack, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: install browser run test lint unit bench clean build-ApiFunction

$(STAMP): requirements-dev.txt layers/deps/requirements.txt layers/poster/requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# tests/e2e drive Debian's Chromium (Playwright's own browser download is never used) and
# screenshot CJK pages: install both when missing (root, or through sudo); quick when present.
browser:
	@if [ -x $(CHROMIUM) ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then exit 0; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk

run: install
	$(BIN)/ripple dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint browser
	$(BIN)/python -m pytest -q

unit: install
	$(BIN)/python -m pytest -q tests/unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .local

# `sam build` (template.yaml: ApiFunction Metadata BuildMethod makefile) packages the API
# function as app.py alone; ripple and its dependencies come from the layers.
build-ApiFunction:
	cp app.py "$(ARTIFACTS_DIR)/"
