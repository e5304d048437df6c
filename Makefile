# regionctl: the two commands in the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXAMPLE ?= examples/two-regions
OUT ?= out

.PHONY: venv demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[keystone,test]'
	touch $@

venv: $(VENV)/.installed

# The main job on a bundled example.
demo: venv
	$(VENV)/bin/regionctl validate -s $(EXAMPLE)
	$(VENV)/bin/regionctl explain -s $(EXAMPLE) -r RegionOne -r RegionTwo nova.conf:DEFAULT.cpu_allocation_ratio

# Everything installed, the whole test suite.
test: venv
	$(PY) -m pytest -q -ra

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(OUT)
