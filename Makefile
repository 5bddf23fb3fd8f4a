# Hoverslam: `make demo` flies one landing, `make test` runs the tests.
# Both bootstrap .venv on a fresh clone (only Python 3.11 needed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= /dev/ttyACM0

.PHONY: setup demo test bench flash hil clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hoverslam fly

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/hoverslam bench

flash: $(STAMP)
	$(VENV)/bin/hoverslam flash --port $(PORT)

hil: $(STAMP)
	$(VENV)/bin/hoverslam fly --target $(PORT)

clean:
	rm -rf $(VENV) bench-results.json *.egg-info
