# Hearth: `make run` and `make test` bootstrap .venv from a bare Python.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench chat clean local-model run-local
.PHONY: coverage

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/hearth run

chat: $(STAMP)
	$(BIN)/hearth chat

test: $(DEVSTAMP)
	$(BIN)/ruff check bot handlers knowledge tests
	$(BIN)/mypy
	$(BIN)/hearth bench --quick
	$(BIN)/python -m pytest -q -n auto

lint: $(DEVSTAMP)
	$(BIN)/ruff check bot handlers knowledge tests
	$(BIN)/ruff format --check bot handlers knowledge tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/hearth bench

# The suite under coverage, `hearth` subprocesses included ([tool.coverage.run] patch).
coverage: $(DEVSTAMP)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -q
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

clean:
	rm -rf $(VENV) build *.egg-info

# A real local model (llama-cpp-python's OpenAI-compatible server, in its own .venv-model).
# `MODEL=path/to/other.gguf make local-model` serves another GGUF. See docs/local-model.md.
.PHONY: local-model-stop
local-model:
	bash scripts/local_model.sh start

local-model-stop:
	bash scripts/local_model.sh stop

run-local: $(STAMP)
	bash scripts/local_model.sh start
	env LLM_ENDPOINTS= $$(bash scripts/local_model.sh env) $(BIN)/hearth run
