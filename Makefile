# One virtual environment, rebuilt whenever requirements.txt changes.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export PYGAME_HIDE_SUPPORT_PROMPT := 1

.PHONY: test train bench clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

train: $(STAMP)
	$(PY) run.py --training True --save_model True --model_name fullyconv

bench: $(STAMP)
	$(PY) -m bench.env_throughput

clean:
	rm -rf $(VENV)
