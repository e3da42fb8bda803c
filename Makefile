# thinkspeak — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= all,piper,dev
# Debian packages used by the offline speech engines and the browser test (installed only when absent).
APT_PKGS := espeak-ng flite festival festvox-kallpc16k chromium chromium-driver

.PHONY: demo test lint sysdeps venv clean format

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade -q pip
	# torch==2.13.0 (CPU) resolves from the local wheel directory configured for pip (see DEVELOPERS.md).
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "warning: missing Debian packages:$$missing (tests that need them are skipped)"; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

test: $(STAMP) sysdeps lint
	$(PY) -m pytest

demo: $(STAMP) sysdeps
	$(VENV)/bin/thinkspeak serve --host 127.0.0.1 --port 8765 --turn-detection semantic_vad

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist src/*.egg-info
