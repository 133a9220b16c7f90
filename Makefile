# The two commands: `make demo` (the whole cycle on an embedded PostgreSQL) and `make test` (self-tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install

$(BIN)/deploylog: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/deploylog

install: $(BIN)/deploylog

demo: install
	$(BIN)/deploylog demo

lint: install
	$(BIN)/ruff check deploylog selftests tests_* bench
	$(BIN)/ruff format --check deploylog selftests tests_* bench
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest selftests -q -p no:randomly -n 2
