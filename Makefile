# One virtual environment, rebuilt whenever requirements.txt changes.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export PYGAME_HIDE_SUPPORT_PROMPT := 1

.PHONY: setup test train bench clean

# The pinned requirements, then the project itself (editable: its console commands
# alphastar-run, alphastar-convert and minigames-play, and `import run` from any folder).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# About 400 tests, one worker process per CPU core (pytest-xdist): 7 to 10 minutes on 2 quiet
# cores, 15 in one process.
test: $(STAMP)
	$(PY) -m pytest -q -n auto tests

# A2C on MoveToBeacon with FullyConv until a 100-episode mean of 25 (about 300,000 agent steps,
# 6 to 12 minutes on 2 CPU cores); Ctrl-C stops cleanly and writes what a finished run writes.
train: $(STAMP)
	$(PY) run.py --training True --save_model True --model_name fullyconv --target_mean 25

bench: $(STAMP)
	$(PY) -m bench.env_throughput

clean:
	rm -rf $(VENV)
