# The two set-up commands of README.md: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install clean bench

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[service,distributed,bench]" --group dev
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m patriline.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks verification
	$(VENV)/bin/ruff format --check src tests benchmarks verification
	# The layer contracts of pyproject.toml [tool.importlinter] (docs/architecture.md).
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck pytest

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
