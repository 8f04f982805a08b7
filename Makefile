# Quick start:  make demo   (fit the embedded example)   |   make test   (run the test suite)
# Each target makes a local virtual environment in .venv and installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-core

demo: $(VENV)/.installed-core
	$(BIN)/lensframe fit examples/sie_mock.toml --output out/sie_mock

# one worker per core, each test file on one worker (its compiled programs are built once)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto --dist loadfile

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) out .pytest_cache
