# thinkspeak — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= all,piper,dev
# Debian packages used by the offline speech engines and the browser test (installed only when absent).
APT_PKGS := espeak-ng flite festival festvox-kallpc16k chromium chromium-driver
# `make sysdeps` fails when a package is missing and cannot be installed; SYSDEPS_OPTIONAL=1 only warns
# (local use: the tests that need a missing engine then skip; in CI they fail, see tests/parts.py).
SYSDEPS_OPTIONAL ?= 0

.PHONY: demo test lint sysdeps venv clean format

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade -q pip
	# torch==2.13.0 (CPU) resolves from the local wheel directory configured for pip (see DEVELOPERS.md).
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	# Smart Turn v3.2 (BSD-2) ships inside pipecat-ai's wheel: its ONNX file only, never pipecat's runtime.
	$(PY) -m pip install -q --no-deps pipecat-ai==1.14.0
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  elif [ "$(SYSDEPS_OPTIONAL)" = 1 ]; then \
	    echo "warning: missing Debian packages:$$missing (SYSDEPS_OPTIONAL=1: tests that need them are skipped)"; \
	  else echo "error: missing Debian packages:$$missing and cannot install them (needs root and apt-get);" \
	    "install them, or run with SYSDEPS_OPTIONAL=1 to skip the tests that need them" >&2; exit 1; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

test: $(STAMP) sysdeps lint
	$(PY) -m pytest

demo: $(STAMP) sysdeps
	$(VENV)/bin/thinkspeak serve --host 127.0.0.1 --port 8765 --model tools --turn-detection semantic_vad

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist src/*.egg-info
