# Ripple: `make run` starts the local stack, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: install sysdeps browser axe run test test-dates lint unit bench clean sam-build deploy-check

$(STAMP): requirements-dev.txt layers/deps/requirements.txt layers/poster/requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# tests/e2e drive Debian's Chromium (Playwright's own browser download is never used) and
# screenshot CJK pages. Install what is missing (root, or through sudo); quick when present.
SYSPKGS := chromium fonts-noto-cjk
sysdeps:
	@missing=; for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	[ -z "$$missing" ] && exit 0; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

browser: sysdeps

# axe-core (npm, pinned by tests/e2e/package-lock.json) for the accessibility test: injected
# into the pages by tests/e2e/test_accessibility.py, never shipped. Node comes with Debian's
# nodejs package (npm too on this image); installed if missing.
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@command -v npm >/dev/null || { SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	@touch $(AXE)

axe: $(AXE)

run: install
	$(BIN)/ripple dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# the layer rules (domain <- service <- adapters/entry points), tests/unit/test_import_contracts.py
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_import_contracts.py

test: install lint sysdeps axe
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-dates

# The suite must not depend on the calendar: run it again with the clock moved to dates at
# the edges (tests/fakedates.py says how). Every process of a run (pytest, the moto server,
# `ripple dev`) shares the moved clock. FAKE_PLAN=ci (part of `make test`): unit, functional
# and integration tests at the night Europe switches to summer time and at a leap day in
# Tokyo, the unit tests also at a new year minutes after midnight UTC and at the last minute
# of a half-year; two runs at a time (~13 min). FAKE_PLAN=full: everything at all four (~25 min).
# Left out: Chromium (tests/e2e), packaging, and the local stand-ins' own tests (HTTP framing,
# moto's locking and journal, crash and restart), which read no clock of ours.
FAKE_PLAN ?= ci
FAKE_JOBS ?= 2
test-dates: install
	$(BIN)/python -m tests.fakedates --plan $(FAKE_PLAN) --jobs $(FAKE_JOBS) -- -q -p no:cacheprovider

unit: install
	$(BIN)/python -m pytest -q tests/unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .local

# ------------------------------------------------------------------ sam build (BuildMethod: makefile)
# `sam build` runs `make build-<LogicalId> ARTIFACTS_DIR=...` for every function and layer of
# template.yaml. Layers are pip-installed for the Lambda runtime's platform (python3.11 on
# Amazon Linux 2, glibc 2.26, arm64) from wheels only, without dependency resolution (every
# runtime package is pinned in the layer's files), then byte-compiled by the same Python
# minor version, so no cold start compiles a module (/opt is read-only on Lambda: .pyc are
# never cached there otherwise).
HERE            := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
BUILD_PYTHON    ?= python3.11
LAMBDA_PYTHON   := 3.11
LAMBDA_PLATFORM := manylinux2014_aarch64
LAYER_PIP = $(BUILD_PYTHON) -m pip install -q --disable-pip-version-check --no-compile --no-deps \
	--only-binary=:all: --implementation cp --python-version $(LAMBDA_PYTHON) --platform $(LAMBDA_PLATFORM) \
	--target "$(ARTIFACTS_DIR)/python"
define byte_compile
	$(BUILD_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(LAMBDA_PYTHON)".split("."))) and "build with Python $(LAMBDA_PYTHON): .pyc are per minor version")'
	$(BUILD_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(1)"
endef

# The API function is app.py alone; ripple and its dependencies come from the layers.
build-ApiFunction:
	cp "$(HERE)app.py" "$(ARTIFACTS_DIR)/"
	$(call byte_compile,$(ARTIFACTS_DIR))

# The other functions (CodeUri functions/): their modules, nothing else.
build-%Function:
	cp "$(HERE)"functions/*.py "$(ARTIFACTS_DIR)/"
	$(call byte_compile,$(ARTIFACTS_DIR))

build-DepsLayer:
	$(LAYER_PIP) -r "$(HERE)layers/deps/requirements.txt" -r "$(HERE)layers/deps/closure.txt"
	rm -rf "$(ARTIFACTS_DIR)"/python/bin
	$(call byte_compile,$(ARTIFACTS_DIR)/python)

build-PosterLayer:
	$(LAYER_PIP) -r "$(HERE)layers/poster/requirements.txt"
	rm -rf "$(ARTIFACTS_DIR)"/python/bin
	$(call byte_compile,$(ARTIFACTS_DIR)/python)

build-CoreLayer:
	mkdir -p "$(ARTIFACTS_DIR)/python"
	tar -C "$(HERE)layers/ripple" --exclude=__pycache__ --exclude='*.pyc' -cf - ripple | tar -C "$(ARTIFACTS_DIR)/python" -xf -
	$(call byte_compile,$(ARTIFACTS_DIR)/python)

# The real `sam build` (no container) of template.yaml, then the tests that need its output:
# handlers imported from .aws-sam/build, wheel tags and glibc symbols of the arm64 binaries,
# cold-start import times. Slow (pip downloads, ~1-2 min), hence outside `make test`.
DEPLOY_VENV  := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed

$(DEPLOY_STAMP): requirements-deploy.txt
	@test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install -q -r requirements-deploy.txt
	@touch $(DEPLOY_STAMP)

sam-build: $(DEPLOY_STAMP)
	PATH="$(abspath $(DEPLOY_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(DEPLOY_VENV)/bin/sam build

deploy-check: install sam-build
	RIPPLE_SAM_BUILD=.aws-sam/build $(BIN)/python -m pytest -q tests/packaging/test_sam_build.py
