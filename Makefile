PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bpexp tests benchmarks

demo: $(STAMP)
	$(BIN)/python -m bpexp.demo

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]" || echo "bench extra not installed: JAX/PyTorch baselines skipped"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) outputs multirun
