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

DEMO_DIR ?= multirun/demo

# XOR width sweep: hidden 1..8, 1000 networks each, then the outcome table per width
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/bpexp -m data=xor 'model.hidden=range(1,9)' train.networks=1000 seed=0 \
		hydra.sweep.dir=$(DEMO_DIR)
	$(BIN)/python -m bpexp.summary $(DEMO_DIR) --by model.hidden

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]" || echo "bench extra not installed: JAX/PyTorch baselines skipped"
	$(BIN)/python benchmarks/run.py
	$(BIN)/python -m pip install --quiet -e ".[joblib]"
	$(BIN)/python benchmarks/sweeps.py

clean:
	rm -rf $(VENV) outputs multirun
