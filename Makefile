# twitchwatch: the two commands a fresh machine needs are `make demo` and `make test`.
# Both create .venv and install everything on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
STUBS := typings/.stamp
DEMO_ARGS ?=

.PHONY: demo test install stubs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	@touch $@

# MicroPython ESP32 stubs for type-checking the firmware; kept out of the venv
# because they install modules named machine, time, ... that would shadow CPython's.
$(STUBS): $(STAMP)
	$(PY) -m pip install --no-deps --target typings micropython-esp32-stubs micropython-stdlib-stubs
	@touch $@

stubs: $(STUBS)

demo: $(STAMP)
	$(VENV)/bin/twitchwatch demo $(DEMO_ARGS)

test: $(STAMP) $(STUBS)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install -e '.[dev,bench]'
	$(PY) bench/decode_bench.py
	$(PY) bench/firmware_encode_bench.py
	$(PY) bench/pipeline_bench.py
	$(PY) bench/detect_bench.py
	$(PY) bench/dashboard_latency_bench.py

clean:
	rm -rf $(VENV) typings .pytest_cache .mypy_cache build *.egg-info host/*.egg-info
